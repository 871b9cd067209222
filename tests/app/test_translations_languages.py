"""Every reporter-facing text exists in French, Spanish, Polish and Arabic, with the same placeholders, and no
reporter page in those languages shows a sentence left in English (tests/reporter/test_reporter_languages.py).

Reporter-facing: the msgids of the reporter's pages and of the services whose messages reach the reporter
(REPORTER_SOURCES), and every shipped text an admin may edit (channel names, descriptions, categories,
acknowledgements, the organisation's texts), which pages in these languages look up by their English. Staff-only
msgids need Dutch only (tests/app/test_translations_complete.py).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ROOT
from app.i18n import LANGUAGES, STAFF_LANGUAGES, load_catalog
from app.models import Channel, Organisation
from tests.app.test_translations_complete import _msgids

OTHER_LANGUAGES = [lang for lang in LANGUAGES if lang not in STAFF_LANGUAGES]
REPORTER_SOURCES = (
    "templates/base.html", "templates/error.html", "templates/macros.html", "templates/reporter/*.html",
    "app/web/reporter.py", "app/forms.py", "app/services/submission.py", "app/services/mailbox.py",
    "app/services/upload.py", "app/services/scrub.py",  # scrub.py: hidden data removed (h/mat2)
)
PLACEHOLDER = re.compile(r"%\(\w+\)s")
# The same word in English and in the language: not a text left untranslated.
SAME_IN_ENGLISH = {"Meldkluis", "Messages", "Discrimination", "Fraude", "Canal", "No", "Status"}


@functools.cache
def reporter_msgids() -> frozenset[str]:
    found: set[str] = set()
    for pattern in REPORTER_SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            for msgid in _msgids(path):
                found.add(msgid if isinstance(msgid, str) else msgid[0])
    return frozenset(found)


def shipped_texts(session: Session) -> set[str]:
    """The English of every admin-editable text as `meldkluis db upgrade` ships it."""
    texts: set[str] = set()
    for channel in session.scalars(select(Channel)):
        texts |= {channel.name_en, channel.description_en, channel.acknowledgement_en}
        texts |= {str(category["en"]) for category in channel.categories}
    organisation = session.get(Organisation, 1)
    assert organisation is not None
    texts |= {organisation.intro_en, organisation.adviser_contact_en}
    return texts - {""}


_catalog = functools.cache(load_catalog)


def _translation(lang: str, msgid: str) -> str:
    message = _catalog(lang).get(msgid)
    return "" if message is None or not message.string else str(message.string)


def test_the_reporter_sources_are_found() -> None:
    msgids = reporter_msgids()
    assert len(msgids) > 200
    assert {"Send my report", "Your mailbox", "Page not found", "What happened?"} <= msgids
    assert "Inbox" not in msgids  # a staff page's word


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_reporter_msgid_is_translated_with_the_same_placeholders(lang: str) -> None:
    untranslated, placeholders, english = [], [], []
    for msgid in sorted(reporter_msgids()):
        text = _translation(lang, msgid)
        if not text:
            untranslated.append(msgid)
        elif sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(msgid)):
            placeholders.append(msgid)
        elif text == msgid and msgid not in SAME_IN_ENGLISH:
            english.append(msgid)
    assert (untranslated, placeholders, english) == ([], [], [])


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_shipped_text_is_translated(db_session: Session, lang: str) -> None:
    texts = shipped_texts(db_session)
    assert len(texts) > 30
    missing = sorted(text for text in texts if not _translation(lang, text) or _translation(lang, text) == text
                     and text not in SAME_IN_ENGLISH)
    assert missing == []


@pytest.mark.parametrize("lang", [*STAFF_LANGUAGES, *OTHER_LANGUAGES])
def test_every_catalogue_entry_keeps_its_placeholders(lang: str) -> None:
    """Staff texts too (a lost placeholder is a KeyError at rendering); plural forms may drop the number."""
    wrong = [message.id for message in load_catalog(lang)
             if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string
             and sorted(PLACEHOLDER.findall(message.string)) != sorted(PLACEHOLDER.findall(message.id))]
    assert wrong == []


def test_language_sources_exist_for_every_language() -> None:
    for lang in LANGUAGES:
        if lang != "en":
            assert list(Path(ROOT / "app" / "i18n" / lang).glob("*.po")), lang


def test_the_memoised_date_filter_writes_what_flask_babel_writes(app: Flask) -> None:
    """`dateformat` is memoised for plain dates (app/i18n.py `format_day`); its text must stay Babel's."""
    import flask_babel

    from app import i18n

    assert app.jinja_env.filters["dateformat"] is i18n.format_day
    days = [date(2026, 1, 1), date(2026, 3, 29), date(2027, 12, 31)]
    for lang in i18n.LANGUAGES:
        with app.test_request_context(f"/{lang}/"):
            g.lang = lang
            for day in days:
                for pattern in ("short", "medium", "long", "full", "d MMM"):
                    assert i18n.format_day(day, pattern) == flask_babel.format_date(day, pattern)
            moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # a datetime is rebased, as before
            assert i18n.format_day(moment, "long") == flask_babel.format_date(moment, "long")
    with app.test_request_context("/nl/"):
        g.lang = "nl"
        assert i18n.format_day(date(2026, 3, 29), "long") == "29 maart 2026"
    with app.test_request_context("/en/"):
        g.lang = "en"
        assert i18n.format_day(date(2026, 3, 29), "long") == "March 29, 2026"
