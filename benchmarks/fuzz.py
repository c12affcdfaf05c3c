"""The API as a hostile or careless client meets it: generated requests against a live server.

``python -m benchmarks.fuzz`` serves the app with uvicorn on a loopback port over a fresh SQLite
store holding a small world (a depot, a van fleet, two customers with homes, three orders), and
sends it requests that Schemathesis generates from the app's own OpenAPI document — every
operation, valid inputs and inputs the document forbids, each case with the key of one role in
turn (admin, planner, analyst, customer). It counts:

* ``cases`` — requests sent;
* ``server_errors`` — answers 5xx (none is acceptable: bad input is a 4xx naming the field);
* ``schema_violations`` — answers whose body or status the OpenAPI document does not allow.

Every failure is listed with its operation, role, status and a curl line to repeat it.

Then, against ``lastmile serve`` in a child process (:mod:`benchmarks.stress`): the 5,000-job
VROOM problem at ``time_limit=5`` (seconds to an answer, peak memory of the server and its
children) and 32 clients for 60 s while an import of 10,000 rows runs (errors other than the
documented 404/409/429/503, p95 latency). ``--skip-stress`` leaves those out.

``--json FILE`` writes ``{"cases", "server_errors", "schema_violations", "vroom_big_seconds",
"vroom_big_peak_rss_mb", "vroom_big_status", "load_requests", "load_errors", "load_p95_ms",
"failures"}``. Same ``--seed``, same requests.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlmodel import Session

from api.app import create_app
from benchmarks import stress
from benchmarks.loopback import serve_in_thread
from orchestrator.access.keys import create_api_key
from orchestrator.intake.catalog import (
    add_place,
    create_customer,
)
from orchestrator.intake.orders import register_order
from orchestrator.settings import Settings

__all__ = ["FuzzResult", "fuzz", "live_server", "main"]

ROLES = ("admin", "planner", "analyst", "customer")
"""The roles whose keys the cases are sent with, in turn."""
STARTUP_S = 30.0
"""Seconds the server may take to start."""


@dataclass
class FuzzResult:
    """What the generated requests met (see the module's docstring)."""

    cases: int = 0
    server_errors: int = 0
    schema_violations: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    operations: int = 0
    seconds: float = 0.0


@contextmanager
def live_server(store: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The app served on a free loopback port over a fresh SQLite file at ``store``, with a
    small world in it; yields its base URL and one key per role."""
    app = create_app(Settings(database_url=f"sqlite:///{store}"))
    with serve_in_thread(app, startup_s=STARTUP_S, log_level="critical") as url:
        with Session(app.state.engine) as session:
            keys = _world(session)
        yield url, keys


def _world(session: Session) -> dict[str, str]:
    """A depot with a van fleet, two customers with homes, three orders; a key per role."""
    depot_id = stress.seed_depot(session, vans=2, shift_end_s=18 * 3_600)
    customers = []
    for name, lat in (("Aino Virtanen", 60.1755), ("Bertil Lindqvist", 60.1800)):
        customer = create_customer(session, {"name": name})
        assert customer.id is not None
        add_place(session, customer.id, {"kind": "home", "name": "home", "lat": lat, "lon": 24.931})
        customers.append(customer.id)
    for k in range(3):
        register_order(
            session,
            {"customer_id": customers[k % 2], "depot_id": depot_id, "service_day": "2026-12-03",
             "items": [{"weight_g": 1_000, "volume_ml": 2_000, "parcels": 1}]},
            f"fuzz-{k}",
        )  # fmt: skip
    return {
        "admin": create_api_key(session, "admin"),
        "planner": create_api_key(session, "planner"),
        "analyst": create_api_key(session, "analyst"),
        "customer": create_api_key(session, "customer", customers[0]),
    }


def fuzz(
    url: str,
    keys: dict[str, str],
    *,
    examples: int,
    seed: int,
    exclude: Sequence[str] = (),
) -> FuzzResult:
    """Send up to ``examples`` generated cases per operation of the server at ``url``, each
    with the next role's key; ``exclude`` leaves out operations by path prefix."""
    started = time.perf_counter()
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=30)
    result = FuzzResult()
    turn = [0]
    for entry in schema.get_all_operations():
        operation = entry.ok()
        if operation.path.startswith(tuple(exclude)):
            continue
        result.operations += 1
        _run_operation(operation, url, keys, examples, seed, result, turn)
    result.seconds = time.perf_counter() - started
    return result


def _run_operation(
    operation: Any,
    url: str,
    keys: dict[str, str],
    examples: int,
    seed: int,
    result: FuzzResult,
    turn: list[int],
) -> None:
    """The generated cases of one operation, their outcomes added to ``result``."""

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )
    )
    def run(case: Any) -> None:
        role = ROLES[turn[0] % len(ROLES)]
        turn[0] += 1
        headers = {"Authorization": f"Bearer {keys[role]}"}
        try:
            response = case.call(base_url=url, headers=headers, timeout=60)
        except Exception as exc:  # a dropped connection or a timeout is the server's fault
            result.cases += 1
            result.server_errors += 1
            result.failures.append(_failure(operation, role, None, repr(exc), case, url))
            return
        result.cases += 1
        if response.status_code >= 500:
            result.server_errors += 1
            result.failures.append(
                _failure(operation, role, response.status_code, response.text, case, url)
            )
            return
        try:
            case.validate_response(response, checks=[response_schema_conformance])
        except (Exception, BaseExceptionGroup) as exc:  # Schemathesis's failure group
            result.schema_violations += 1
            result.failures.append(
                _failure(operation, role, response.status_code, str(exc), case, url)
            )

    run()


def _failure(
    operation: Any, role: str, status: int | None, text: str, case: Any, url: str
) -> dict[str, Any]:
    """One failure as a row of the report: operation, role, status, what was said, a curl."""
    try:
        curl = case.as_curl_command(headers={"Authorization": f"Bearer <{role} key>"})
    except Exception:  # a case that cannot be shown as curl is still reported
        curl = ""
    return {
        "operation": f"{operation.method.upper()} {operation.path}",
        "role": role,
        "status": status,
        "detail": text[:300],
        "curl": curl.replace("http://localhost", url)[:2_000],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=60, help="cases per operation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--skip-stress", action="store_true", help="the generated cases only")
    parser.add_argument("--load-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="lastmile-fuzz-") as folder,
        live_server(Path(folder) / "fuzz.db") as (url, keys),
    ):
        result = fuzz(url, keys, examples=args.examples, seed=args.seed)
    figures: dict[str, Any] = {
        "cases": result.cases,
        "server_errors": result.server_errors,
        "schema_violations": result.schema_violations,
    }
    stressed_ok = True
    if not args.skip_stress:
        with tempfile.TemporaryDirectory(prefix="lastmile-stress-") as folder:
            with stress.served(Path(folder)) as server:
                big = stress.vroom_big(server)
            with stress.served(Path(folder) / "load") as server:
                load = stress.mixed_load(server, seconds=args.load_seconds)
        figures.update(
            vroom_big_seconds=round(big.seconds, 2),
            vroom_big_peak_rss_mb=round(big.peak_rss_mb, 1),
            vroom_big_status=big.status,
            load_requests=load.requests,
            load_errors=load.errors,
            load_p95_ms=round(load.p95_ms, 1),
        )
        stressed_ok = load.errors == 0 and big.seconds <= 10.0 and big.peak_rss_mb < 2_000
        print(f"vroom 5,000 jobs: {big.status} in {big.seconds:.1f} s, "
              f"peak {big.peak_rss_mb:.0f} MB ({big.detail[:120]!r})")  # fmt: skip
        print(f"load: {load.requests} requests, {load.errors} errors, p95 {load.p95_ms:.0f} ms, "
              f"statuses {dict(sorted(load.by_status.items()))}; import exit "
              f"{load.import_exit} after {load.import_seconds:.0f} s")  # fmt: skip
        for sample in load.error_samples:
            print(f"  {sample}")
    print(f"{'operations':>18} {result.operations}")
    print(f"{'cases':>18} {result.cases}")
    print(f"{'server errors':>18} {result.server_errors}")
    print(f"{'schema violations':>18} {result.schema_violations}")
    print(f"{'seconds':>18} {result.seconds:.1f}")
    for failure in result.failures[:40]:
        print(f"- {failure['operation']} as {failure['role']}: {failure['status']} "
              f"{failure['detail'][:160]!r}")  # fmt: skip
    if args.json is not None:
        figures["failures"] = result.failures
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    clean = not result.server_errors and not result.schema_violations
    return 0 if clean and stressed_ok else 1


if __name__ == "__main__":
    sys.exit(main())
