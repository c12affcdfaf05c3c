"""The server-side secret that keys are hashed with, so that a stolen database alone confirms
no key.

``LASTMILE_KEY_SECRET`` when set (at least 16 characters; every process of a deployment —
servers, workers, the command line — must see the same value). Otherwise a secret file,
created once with 32 random bytes and ``0600`` permissions:

* for a SQLite store, beside the database file, named like it with ``.key-secret`` appended
  (``./var/lastmile.db`` → ``./var/lastmile.db.key-secret``);
* for any other store (PostgreSQL), ``./var/lastmile.key-secret`` relative to the working
  directory — so a server and ``lastmile keys create`` must run from the same folder, or the
  deployment must set ``LASTMILE_KEY_SECRET``.

Losing or changing the secret invalidates every key hashed with it (create new ones with
``lastmile keys create``). Keep the secret file out of the database's backups, or set
``LASTMILE_KEY_SECRET`` from a secret store: a thief holding both can confirm keys again.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

__all__ = ["SECRET_FILE_SUFFIX", "SHARED_SECRET_FILE", "key_secret", "secret_file"]

SECRET_FILE_SUFFIX = ".key-secret"
"""Appended to a SQLite database's file name to name its secret file."""
SHARED_SECRET_FILE = Path("var") / "lastmile.key-secret"
"""The secret file of a store that is not a SQLite file, relative to the working directory."""
_SECRET_BYTES = 32


def secret_file(database_url: str) -> Path:
    """Where the secret of the store at ``database_url`` is kept when none is configured."""
    url = sa.make_url(database_url)
    database = url.database
    not_a_file = not database or database == ":memory:" or database.startswith("file:")
    if url.get_backend_name() == "sqlite" and database and not not_a_file:
        path = Path(database).expanduser()
        return path.with_name(path.name + SECRET_FILE_SUFFIX).resolve()
    return SHARED_SECRET_FILE.resolve()


@lru_cache(maxsize=64)
def key_secret(database_url: str, configured: str | None = None) -> bytes:
    """The secret keys of the store at ``database_url`` are hashed with.

    Parameters
    ----------
    database_url
        The store's SQLAlchemy URL (it says where the secret file lives).
    configured
        ``LASTMILE_KEY_SECRET`` when set; then no file is read or written.

    Returns
    -------
    bytes
        The secret; the same for every process of the store. A missing secret file is
        created (atomically: concurrent processes agree on one secret). Remembered per
        process: every request asks.
    """
    if configured:
        return configured.encode()
    return _file_secret(secret_file(database_url))


def _file_secret(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = _create(path)
    if len(text) < 32:
        raise RuntimeError(
            f"the key secret file {path} is damaged (fewer than 32 characters) — restore it, "
            "or delete it and create new keys with `lastmile keys create`"
        )
    return text.encode()


def _create(path: Path) -> str:
    """Write a new secret to ``path`` unless another process got there first; the secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_hex(_SECRET_BYTES)
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(text + "\n")
            file.flush()
            os.fsync(file.fileno())
        # A hard link appears whole or not at all, and fails when the name exists: the
        # first process to link wins, the others read its secret.
        try:
            os.link(draft, path)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
    finally:
        draft.unlink(missing_ok=True)
    return text
