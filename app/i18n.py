"""Languages: Dutch by default, English, and for reporters also French, Spanish, Polish and Arabic; chosen
in the URL (`/nl/...`, `/fr/...`), never stored.

Texts live in `app/i18n/<lang>/*.po` (one file per audience or topic, so they can grow independently);
they are merged and compiled into `app/translations/<lang>/LC_MESSAGES/messages.mo` when a source is
newer than the compiled catalogue. Staff pages are Dutch and English only (`STAFF_LANGUAGES`).

Texts an admin edits (channel names, acknowledgements, the organisation's introduction) are stored in
Dutch and English. On a page in another language the English text is looked up in the catalogue: the
shipped texts are translated there, and a text an admin wrote is shown in English (`stored_text`).
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path

import flask_babel
from babel.dates import format_date as babel_format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import current_app, g, has_request_context, request, url_for
from werkzeug.exceptions import HTTPException

LANGUAGES = ("nl", "en", "fr", "es", "pl", "ar")
STAFF_LANGUAGES = ("nl", "en")
RIGHT_TO_LEFT = frozenset({"ar"})
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


# Each language in its own name: a reporter looks for the name they can read.
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English", "fr": "Français", "es": "Español", "pl": "Polski",
                  "ar": "العربية"}


def text_direction(lang: str) -> str:
    """`rtl` for Arabic, `ltr` for the others (the value of the html element's `dir`)."""
    return "rtl" if lang in RIGHT_TO_LEFT else "ltr"


def is_staff_endpoint(endpoint: str | None) -> bool:
    """Pages of the handler, compliance and admin blueprints: offered in STAFF_LANGUAGES only."""
    return endpoint is not None and "." in endpoint and not endpoint.startswith("reporter.")


@functools.cache
def _translations(lang: str) -> NullTranslations:
    return Translations.load(str(COMPILED_DIR), [lang])


def format_day(value: date | datetime | None = None, format: str | None = None) -> str:
    """Flask-Babel's `dateformat` filter, memoised for plain dates in a named or given pattern.

    Pages show the same days over and over (an inbox of 50 rows, a thread of 25 messages), and Babel's
    formatting of one date costs more than the rest of a table row. Datetimes go to Flask-Babel unchanged
    (they are rebased to the user's time zone first).
    """
    if type(value) is date and format is not None:
        return _format_day(value, format, current_language())
    return str(flask_babel.format_date(value, format))


@functools.lru_cache(maxsize=8192)
def _format_day(day: date, format: str, lang: str) -> str:
    return str(babel_format_date(day, format, locale=lang))


def msgid(text: str) -> str:
    """Mark `text` as a msgid (extracted like `_`), to be translated with `translate` into a language the code
    chooses rather than the page's."""
    return text


def translate(text: str, lang: str) -> str:
    """`text` (an English msgid) in `lang`, or `text` itself when the catalogue does not have it."""
    return text if lang == "en" or not text else _translations(lang).gettext(text)


def stored_text(dutch: str, english: str, lang: str | None = None) -> str:
    """An admin-edited text kept in Dutch and English, for a page in `lang` (default: the current one).

    Other languages get the catalogue's translation of the English text (the shipped texts have one); a text
    the admin wrote themselves has none and is shown in English, the closer of the two for most readers.
    """
    lang = lang or current_language()
    if lang == "nl":
        return dutch
    return english if lang == "en" else translate(english, lang)


def language_links() -> list[tuple[str, str, str | None]]:
    """(code, name, url or None for the current one) for the language switch of the page being shown.

    A page shown after a form was sent links to the same address's GET page (or the language's start page
    when the address has none), which base.html opens in a new window so the page itself is not lost. Staff
    pages list only the staff languages.
    """
    current = current_language()
    rule = request.url_rule if has_request_context() else None
    switchable = rule is not None and "lang" in rule.arguments and request.endpoint is not None
    staff = has_request_context() and is_staff_endpoint(request.endpoint)
    links: list[tuple[str, str, str | None]] = []
    for code in STAFF_LANGUAGES if staff else LANGUAGES:
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
    """Compile each language's merged catalogue when any of its sources is newer than the compiled file."""
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
