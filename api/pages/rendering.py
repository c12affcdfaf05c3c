"""Rendering a page: Jinja2 templates, the message catalogues, times in the reader's zone.

Templates live in ``api/pages/templates`` and extend ``base.html``. Text a person reads is
wrapped in ``{{ _("...") }}`` (or ``{% trans %}``) and translated from the gettext catalogues
in ``api/pages/locales/<lang>/LC_MESSAGES/<domain>.po``: one domain per page family
(``customer``, ``board``, ``manifest``, ``common``), English being the source language. The
catalogues are read with Babel when a language is first asked for and merged into one
:class:`babel.support.Translations` per language; no compiled ``.mo`` file is kept in the
repository.

Times: every page shows times in one zone, the customer's (customer's page) or the depot's
(board, manifest), with the filters ``hm`` (``14:05``), ``day`` (a date in the page's locale)
and ``iso`` (ISO 8601 with the zone's offset, for ``<time datetime=...>``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "TEMPLATES",
    "choose_language",
    "environment",
    "local",
    "render",
    "translations",
]

TEMPLATES = Path(__file__).parent / "templates"
LOCALES = Path(__file__).parent / "locales"

LANGUAGES: tuple[str, ...] = ("en", "fi", "sv")
"""The languages the pages speak; English is the catalogues' source language."""

DEFAULT_LANGUAGE = "en"


def choose_language(preferred: str | None, accept_language: str | None = None) -> str:
    """The page's language: ``preferred`` (e.g. the customer's profile) when spoken here, else
    the first spoken one of the browser's ``Accept-Language``, else English.

    ``fi-FI`` counts as ``fi``; quality values are honoured in the order given.
    """
    candidates: list[str] = []
    if preferred:
        candidates.append(preferred)
    if accept_language:
        weighted: list[tuple[float, int, str]] = []
        for i, part in enumerate(accept_language.split(",")):
            tag, _, params = part.strip().partition(";")
            q = 1.0
            if params.strip().startswith("q="):
                try:
                    q = float(params.strip()[2:])
                except ValueError:
                    q = 0.0
            if tag:
                weighted.append((-q, i, tag))
        candidates.extend(tag for _, _, tag in sorted(weighted))
    for tag in candidates:
        base = tag.strip().lower().replace("_", "-").split("-")[0]
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


@cache
def translations(language: str) -> Translations:
    """Every domain's catalogue of ``language`` merged (empty for English)."""
    merged = Translations()
    folder = LOCALES / language / "LC_MESSAGES"
    if language == DEFAULT_LANGUAGE or not folder.is_dir():
        return merged
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=language, domain=po.stem)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        merged.merge(Translations(buffer, domain=po.stem))
    return merged


def local(moment: datetime, zone: str) -> datetime:
    """``moment`` (aware, any zone) in the IANA ``zone``."""
    return moment.astimezone(ZoneInfo(zone))


@cache
def environment(language: str) -> Environment:
    """The Jinja2 environment of one language: autoescaped HTML, strict about undefined names,
    gettext from :func:`translations`."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html", "xml")),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse(DEFAULT_LANGUAGE)
    env.globals["language"] = language
    env.globals["languages"] = LANGUAGES

    def hm(moment: datetime | None, zone: str) -> str:
        return "" if moment is None else local(moment, zone).strftime("%H:%M")

    def iso(moment: datetime | None, zone: str) -> str:
        return "" if moment is None else local(moment, zone).isoformat()

    def day(value: date | datetime | None, zone: str | None = None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = local(value, zone or "UTC").date()
        return format_date(value, format="full", locale=locale)

    env.filters["hm"] = hm
    env.filters["iso"] = iso
    env.filters["day"] = day
    return env


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    language: str = DEFAULT_LANGUAGE,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` in ``language`` as an HTML response.

    Every page may not be framed by another site and is not cached by shared caches
    (it shows one person's data).
    """
    body = (
        environment(language)
        .get_template(template)
        .render(**context, request=request, lang=language)
    )
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Content-Language"] = language
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
