"""What a failed job may tell its client: its error without the server's file paths.

A job's error is read over the API by whoever submitted it (``GET /plans/{id}``,
``GET /simulations/{id}``), and errors raised deep inside — a file that cannot be written, a
road graph that went missing — name absolute paths of the server's disk. :func:`public_error`
replaces each with its path relative to the working directory when it lies under it
(``var/simulations/3f2a…/report.csv``), and with ``…/`` and its last part otherwise
(``…/passwd``); the rest of the message stays as it was, so it still says what went wrong.

Only absolute paths whose first folder exists on this machine are touched (``/etc/…``,
``/home/…``, ``/tmp/…``): API paths such as ``GET /simulations/3`` stay as they are.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["public_error"]

# An absolute path: a slash not inside a word, URL or relative path, then anything up to
# whitespace, a quote or punctuation that does not occur in ordinary file names.
_ABSOLUTE = re.compile(r"""(?<![\w.~:/\\-])/[^\s'"`,;:()\[\]{}<>|]+""")


def public_error(text: str) -> str:
    """``text`` with every absolute server path relativised or cut to its last part."""
    return _ABSOLUTE.sub(_replace, text)


def _replace(match: re.Match[str]) -> str:
    found = match.group(0)
    trailing = ""
    while found and found[-1] in ".!?":  # the end of a sentence, not of the path
        trailing = found[-1] + trailing
        found = found[:-1]
    first = found.lstrip("/").split("/", 1)[0]
    if not first or not Path("/", first).exists():
        return match.group(0)
    relative = os.path.relpath(found, Path.cwd())
    if not relative.startswith(".."):
        return relative + trailing
    return "…/" + Path(found).name + trailing
