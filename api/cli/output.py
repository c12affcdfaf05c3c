"""What the commands print besides their results: one-line errors and store URLs."""

from __future__ import annotations

import click

__all__ = ["error", "store_url"]


def error(where: str, message: str) -> None:
    """Print ``error: WHERE: MESSAGE`` on standard error, as every failure of the program."""
    click.echo(f"error: {where}: {message}", err=True)


def store_url(url: str) -> str:
    """The store's SQLAlchemy URL without its password, for printing."""
    import sqlalchemy as sa  # here: `lastmile --version` and `--help` do not need it

    return sa.make_url(url).render_as_string(hide_password=True)
