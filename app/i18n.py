"""Languages: Dutch by default, English; chosen in the URL (`/nl/...`, `/en/...`), never stored.

Dutch texts live in `app/i18n/nl/*.po` (one file per audience, so they can grow independently);
they are merged and compiled into `app/translations/nl/LC_MESSAGES/messages.mo` when a source is
newer than the compiled catalogue.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, g, has_request_context, request, url_for
from werkzeug.exceptions import HTTPException

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
SOURCE_DIR = Path(__file__).parent / "i18n"
COMPILED_DIR = Path(__file__).parent / "translations"


def current_language() -> str:
    """The URL's language: set by the route, or read from the path on error pages (no route matched)."""
    lang = g.get("lang")
    if lang is None and has_request_context():
        lang = request.path.lstrip("/").split("/", 1)[0]
        g.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


def language_links() -> list[tuple[str, str, str | None]]:
    """(code, name, url or None for the current one) for the language switch of the page being shown.

    A page shown after a form was sent links to the same address's GET page (or the language's start page
    when the address has none), which base.html opens in a new window so the page itself is not lost.
    """
    current = current_language()
    rule = request.url_rule if has_request_context() else None
    switchable = rule is not None and "lang" in rule.arguments and request.endpoint is not None
    links: list[tuple[str, str, str | None]] = []
    for code in LANGUAGES:
        url = None
        if code != current and switchable and request.endpoint:
            if request.method == "GET":
                url = url_for(request.endpoint, **{**(request.view_args or {}), "lang": code})
            else:
                url = _get_page_here(code)
        links.append((code, LANGUAGE_NAMES[code], url))
    return links


def _get_page_here(lang: str) -> str:
    """The page a GET of this request's address shows, in `lang`; the language's start page if there is none."""
    try:
        endpoint, arguments = current_app.url_map.bind("").match(request.path, method="GET")
    except HTTPException:
        return f"{request.script_root}/{lang}/"
    return url_for(str(endpoint), **{**arguments, "lang": lang})


def load_catalog(lang: str) -> Catalog:
    """All sources of one language merged into one catalogue (later files do not override earlier)."""
    merged = Catalog(locale=lang)
    for source in sorted((SOURCE_DIR / lang).glob("*.po")):
        with source.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if message.id and message.id not in merged:
                    merged.add(message.id, message.string)
    return merged


def compile_catalogs() -> None:
    """Compile the merged Dutch catalogue when any source is newer than the compiled file."""
    for lang in LANGUAGES:
        sources = list((SOURCE_DIR / lang).glob("*.po"))
        if not sources:
            continue
        target = COMPILED_DIR / lang / "LC_MESSAGES" / "messages.mo"
        newest = max(source.stat().st_mtime for source in sources)
        if target.exists() and target.stat().st_mtime >= newest:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            write_mo(handle, load_catalog(lang))
        tmp.replace(target)
