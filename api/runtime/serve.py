"""Serving the app: one process, or several processes sharing the port.

Python runs one request's computation at a time per process, so a server that should use more
than one core runs several processes. uvicorn's own ``--workers`` lets them take turns at one
listening socket: the first process to wake takes every connection waiting, so a burst of
clients — the usual case with kept-alive connections — can land on one process while another
idles (measured: 32 clients split 28/4, half the throughput). Here every process listens on
its own socket on the same port (``SO_REUSEPORT``) and the kernel spreads connections over
them by a hash of the client's address and port. A hash is still a lottery (32 clients split
19/13 as often as not), so each worker publishes how many connections it holds, and one
holding two or more than the lightest asks the client it is answering to reconnect
(``Connection: close``): the kernel places the new connection afresh, and the split evens out
within a few answers.

Plan jobs a previous server left unfinished are marked failed once, by the supervising
process, before the workers start — never by a worker, which could catch another worker's
job just queued. Simulation jobs it left running are queued again there instead (a simulation
is reproducible and a sweep's finished points are cached, so it resumes); every worker then
offers the queued ones to its runner, and the first free one claims each.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import time
from collections.abc import Callable, MutableSequence
from types import FrameType
from typing import TYPE_CHECKING

from orchestrator.errors import InvalidInput
from orchestrator.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Balance", "serve"]

_BACKLOG = 2048
"""Connections the kernel queues per listening socket (uvicorn's default)."""


def serve(
    host: str,
    port: int,
    *,
    workers: int = 1,
    log_level: str = "info",
    app: FastAPI | None = None,
) -> int:
    """Serve the API until interrupted; the exit status (0, or 1 when a worker failed).

    Parameters
    ----------
    host, port
        Where to listen.
    workers
        Processes (1 to 64): one per core is the rule of thumb. More than one needs
        ``SO_REUSEPORT`` (Linux, macOS, the BSDs).
    log_level
        uvicorn's.
    app
        The app of a one-process server (default: :func:`api.app.create_app`'s); the workers
        of several build their own.

    Raises
    ------
    InvalidInput
        ``workers`` out of range or not supported here (field ``workers``); the port is
        taken (field ``port``).
    """
    import uvicorn  # imported here: the demo does not need the web stack

    from api.app import create_app

    if not 1 <= workers <= 64:
        raise InvalidInput("workers", f"give 1 to 64 worker processes, not {workers}")
    if workers == 1:
        uvicorn.run(app or create_app(), host=host, port=port, log_level=log_level)
        return 0
    if not hasattr(socket, "SO_REUSEPORT"):
        raise InvalidInput(
            "workers", "several workers need SO_REUSEPORT, which this system lacks — use 1"
        )
    _listener(host, port).close()  # the port is free (or says why not) before anything starts
    _recover_jobs()
    context = multiprocessing.get_context("spawn")
    held = context.RawArray("l", workers)  # connections each worker holds
    processes = [
        context.Process(target=_worker, args=(host, port, log_level, held, n), name=f"lastmile-{n}")
        for n in range(workers)
    ]
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        while not stopping and all(p.is_alive() for p in processes):
            time.sleep(0.2)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for process in processes:
            if process.is_alive():
                process.terminate()  # uvicorn stops gracefully on SIGTERM
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    return 0 if stopping else 1


def _listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` that shares the port with the other workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(_BACKLOG)
    except OSError as exc:
        sock.close()
        raise InvalidInput("port", f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


def _recover_jobs() -> None:
    from api.runtime.jobs import recover_interrupted
    from orchestrator.store.engine import create_engine, ensure_schema

    engine = create_engine(Settings().database_url)
    try:
        ensure_schema(engine)
        recover_interrupted(engine)
    finally:
        engine.dispose()


def _worker(host: str, port: int, log_level: str, held: MutableSequence[int], index: int) -> None:
    """One worker process: its own socket on the shared port, the app, uvicorn."""
    import uvicorn

    from api.app import create_app

    sock = _listener(host, port)
    app = create_app(recover_jobs=False)
    server: uvicorn.Server | None = None

    def connections() -> int:
        return len(server.server_state.connections) if server is not None else 0

    config = uvicorn.Config(Balance(app, held, index, connections), log_level=log_level)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])


class Balance:
    """ASGI wrapper evening out kept-alive connections between the workers of a server.

    Parameters
    ----------
    app
        The application.
    held
        Connections each worker holds, shared between the processes; this worker writes
        ``held[index]`` on every request.
    index
        This worker's slot.
    connections
        How many connections this worker holds now.
    margin
        A worker holding this many more than the lightest sheds one.
    pause_s
        Seconds between two sheds of one worker, so that it sees the effect of the last
        before shedding again.
    """

    def __init__(
        self,
        app: ASGIApp,
        held: MutableSequence[int],
        index: int,
        connections: Callable[[], int],
        *,
        margin: int = 2,
        pause_s: float = 0.05,
    ) -> None:
        self.app, self.held, self.index, self.connections = app, held, index, connections
        self.margin, self.pause_s = margin, pause_s
        self._last_shed = -float("inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer as ``app`` does, closing the connection when this worker holds too many."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        mine = self.connections()
        self.held[self.index] = mine
        now = time.monotonic()
        if mine - min(self.held) < self.margin or now - self._last_shed < self.pause_s:
            await self.app(scope, receive, send)
            return
        self._last_shed = now

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, closing)
