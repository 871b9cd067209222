"""The reporter's own language: six languages on every reporter page, Arabic right to left, staff pages in Dutch
and English only, passphrases in French and Spanish (English words on Polish and Arabic pages, said so), any
list opening the mailbox from any language, the standard acknowledgement and the dates in the page's language,
and no sentence left in English on a page in another language."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator

import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from app.i18n import LANGUAGE_NAMES, LANGUAGES, translate
from app.models import Channel
from app.services import cases, mailbox, submission
from app.services.clock import today
from app.services.limits import Limits
from crypto.reporter import passphrase_word_count, wordlist
from tests.app.test_translations_languages import OTHER_LANGUAGES, PLACEHOLDER, reporter_msgids, shipped_texts

from .conftest import credentials, log_in, sample_report, submit_via_http

OWN_NAMES = ["Nederlands", "English", "Français", "Español", "Polski", "العربية"]


def test_the_switch_lists_each_language_in_its_own_name_on_reporter_pages(client: FlaskClient) -> None:
    assert [LANGUAGE_NAMES[code] for code in LANGUAGES] == OWN_NAMES
    page = client.get("/fr/routekaart").get_data(as_text=True)
    nav = page.split('<nav class="lang"', 1)[1].split("</nav>", 1)[0]
    assert '<span aria-current="true">Français</span>' in nav
    for code, name in zip(LANGUAGES, OWN_NAMES, strict=True):
        if code != "fr":
            assert f'<a href="/{code}/routekaart" hreflang="{code}" lang="{code}">{name}</a>' in nav


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_its_lang_and_only_arabic_is_right_to_left(client: FlaskClient, lang: str) -> None:
    page = client.get(f"/{lang}/").get_data(as_text=True)
    expected = f'<html lang="{lang}" dir="rtl">' if lang == "ar" else f'<html lang="{lang}">'
    assert expected in page


def test_the_stylesheet_uses_logical_properties_only(client: FlaskClient) -> None:
    css = client.get("/static/meldkluis.css").get_data(as_text=True)
    assert not re.search(r"(margin|padding|border)-(left|right)|text-align:\s*(left|right)|float:\s*(left|right)"
                         r"|\b(left|right):", css)
    assert "margin-inline" in css and "border-inline-start" in css and "text-align: start" in css


def test_staff_pages_stay_dutch_and_english(client: FlaskClient) -> None:
    response = client.get("/fr/handler/login?next=x")
    assert response.status_code == 302 and response.headers["Location"] == "/en/handler/login?next=x"
    assert client.get("/ar/admin/").status_code == 302
    assert client.post("/pl/handler/login", data={}).status_code == 404
    page = client.get("/en/handler/login").get_data(as_text=True)
    nav = page.split('<nav class="lang"', 1)[1].split("</nav>", 1)[0]
    assert "Nederlands" in nav and "Français" not in nav and "العربية" not in nav
    assert client.get("/xx/").status_code == 404


def test_codes_stay_left_to_right_inside_arabic(client: FlaskClient) -> None:
    page = submit_via_http(client, lang="ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert re.search(r'<p class="secret" dir="ltr" id="receipt-code">', page)
    assert re.search(r'<p class="secret" dir="ltr" lang="en" id="passphrase">', page)
    assert '<bdi dir="ltr">' in page  # the reference inside the Arabic sentence
    login = client.get("/ar/brievenbus/inloggen").get_data(as_text=True)
    assert re.search(r'<input[^>]*dir="ltr"[^>]*id="receipt_code"', login)
    assert re.search(r'<input[^>]*dir="ltr"[^>]*id="passphrase"', login)


@pytest.mark.parametrize(("lang", "words_from"), [("fr", "fr"), ("es", "es"), ("pl", "en"), ("ar", "en"),
                                                  ("nl", "nl"), ("en", "en")])
def test_the_passphrase_is_in_the_page_language_or_says_it_is_english(client: FlaskClient, lang: str,
                                                                      words_from: str) -> None:
    page = submit_via_http(client, lang=lang).get_data(as_text=True)
    _code, passphrase = credentials(page)
    words = passphrase.split()
    assert len(words) == passphrase_word_count(words_from) and set(words) <= set(wordlist(words_from))
    assert f'lang="{words_from}"' in page
    assert ('id="passphrase-language"' in page) == (words_from != lang)


@pytest.fixture
def reports(app: Flask, db_session: Session, settings) -> dict[str, submission.Receipt]:  # type: ignore[no-untyped-def]
    return {lang: submission.submit_report(db_session, settings, sample_report(language=lang))
            for lang in ("fr", "es", "pl", "nl")}


@pytest.mark.parametrize("page_lang", LANGUAGES)
def test_any_list_opens_the_mailbox_from_any_language(client: FlaskClient, reports, page_lang: str) -> None:  # type: ignore[no-untyped-def]
    assert reports["fr"].wordlist_language == "fr" and reports["pl"].wordlist_language == "en"
    for receipt in reports.values():
        client.delete_cookie(mailbox.COOKIE_NAME, path="/")
        response = log_in(client, receipt.receipt_code, receipt.passphrase, lang=page_lang)
        assert response.status_code == 303, (page_lang, receipt.wordlist_language)
        assert response.headers["Location"].startswith(f"/{page_lang}/brievenbus")


def test_a_word_typed_with_accents_or_capitals_opens_the_mailbox(db_session: Session, settings, reports) -> None:  # type: ignore[no-untyped-def]
    receipt = reports["fr"]
    accented = " ".join(word.replace("e", "é", 1).upper() for word in receipt.passphrase.split())
    assert crypto.normalize_passphrase(accented) == receipt.passphrase
    assert crypto.normalize_passphrase("Ça  Été-Où") == "ca ete ou"
    result = mailbox.login(db_session, settings, receipt.receipt_code, accented, limits=Limits.in_memory())
    assert result.cookie_value


def _opened(db_session: Session, settings, receipt: submission.Receipt) -> mailbox.Mailbox:  # type: ignore[no-untyped-def]
    result = mailbox.login(db_session, settings, receipt.receipt_code, receipt.passphrase,
                           limits=Limits.in_memory())
    opened = mailbox.resume(db_session, settings, result.cookie_value)
    assert opened is not None
    return opened


def test_the_standard_acknowledgement_reads_in_the_page_language(db_session: Session, settings, reports) -> None:  # type: ignore[no-untyped-def]
    channel = db_session.scalar(select(Channel).where(Channel.slug == "misstand"))
    assert channel is not None
    box = _opened(db_session, settings, reports["nl"])
    cases.add_message(db_session, box.opened, author_kind="handler", body=channel.acknowledgement_nl + "\n",
                      day=today(), kind="acknowledgement")
    cases.add_message(db_session, box.opened, author_kind="handler", body="Een eigen tekst van de behandelaar.",
                      day=today(), kind="acknowledgement")
    db_session.commit()
    seen = {lang: [item.body for item in mailbox.read_mailbox(db_session, box, lang).thread]
            for lang in LANGUAGES}
    assert seen["nl"][0] == channel.acknowledgement_nl and seen["en"][0] == channel.acknowledgement_en
    for lang in OTHER_LANGUAGES:
        assert seen[lang][0] not in (channel.acknowledgement_nl, channel.acknowledgement_en) and len(seen[lang][0]) > 100
        assert seen[lang][1] == "Een eigen tekst van de behandelaar."  # as the handler wrote it
    assert "confidentiel" in seen["fr"][0] and "confidencial" in seen["es"][0] and "poufnie" in seen["pl"][0]


def test_an_admin_written_text_is_shown_in_english_on_other_pages(client: FlaskClient, db_session: Session) -> None:
    channel = db_session.scalar(select(Channel).where(Channel.slug == "misstand"))
    assert channel is not None
    channel.name_nl, channel.name_en = "Eigen naam", "Own name"
    db_session.commit()
    assert "Own name" in client.get("/fr/melden").get_data(as_text=True)
    assert "Eigen naam" in client.get("/nl/melden").get_data(as_text=True)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_dates_are_written_out_in_the_page_language(client: FlaskClient, lang: str) -> None:
    receipt = submit_via_http(client, lang=lang).get_data(as_text=True)
    log_in(client, *credentials(receipt), lang=lang)
    page = html.unescape(client.get(f"/{lang}/brievenbus").get_data(as_text=True))
    assert format_date(today(), "long", locale=lang) in page


# --- no sentence left in English --------------------------------------------------------------------------------


def _visible_text(page: str) -> str:
    # Elements marked Dutch or English (names, terms, the switch, English passphrase words) are so on purpose.
    page = re.sub(r'<(?!html)(\w+)\b[^>]*\blang="(nl|en)"[^>]*>.*?</\1>', " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _english_sentences(session: Session) -> list[str]:
    """English texts whose presence betrays a missing translation: msgids (up to a placeholder) of 3+ words."""
    texts = {PLACEHOLDER.split(msgid)[0].strip() for msgid in reporter_msgids() | shipped_texts(session)}
    return sorted(text for text in texts if len(text.split()) >= 3)


def _reporter_pages(client: FlaskClient, lang: str) -> Iterator[tuple[str, str]]:
    for path in ("/", "/routekaart", "/melden", "/melden/misstand", "/melden/omgangsvormen",
                 "/brievenbus/inloggen", "/bestaat-niet"):
        yield path, client.get(f"/{lang}{path}").get_data(as_text=True)
    yield "errors", submit_via_http(client, lang=lang, category="", what="").get_data(as_text=True)
    receipt = submit_via_http(client, lang=lang, files=[(io.BytesIO(b"evidence"), "bewijs.txt")])
    yield "receipt", receipt.get_data(as_text=True)
    log_in(client, *credentials(receipt.get_data(as_text=True)), lang=lang)
    yield "mailbox", client.get(f"/{lang}/brievenbus").get_data(as_text=True)
    yield "login failed", log_in(client, "K7QX-3M9P-TV2A-8HWD", "wrong", lang=lang).get_data(as_text=True)


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_no_reporter_page_shows_a_sentence_left_in_english(client: FlaskClient, db_session: Session,
                                                           add_recipient, lang: str) -> None:  # type: ignore[no-untyped-def]
    add_recipient("handler1")  # the form ticks them
    english = _english_sentences(db_session)
    assert len(english) > 150
    leftovers = {}
    for name, page in _reporter_pages(client, lang):
        assert f'<html lang="{lang}"' in page, name
        text = _visible_text(page)
        found = [sentence for sentence in english if sentence in text]
        if found:
            leftovers[name] = found
    assert leftovers == {}


def test_the_english_check_sees_an_english_page(client: FlaskClient, db_session: Session) -> None:
    text = _visible_text(client.get("/en/routekaart").get_data(as_text=True))
    assert sum(sentence in text for sentence in _english_sentences(db_session)) > 5


def test_the_system_sentences_are_stored_in_dutch_and_read_in_the_page_language(db_session: Session, settings,  # type: ignore[no-untyped-def]
                                                                                reports) -> None:
    box = _opened(db_session, settings, reports["pl"])
    mailbox.request_meeting(db_session, settings, box, "phone", "Po 17:00.")
    stored = cases.read_thread(db_session, box.opened)[0].body
    dutch = translate(mailbox.MEETING_TEXTS["phone"], "nl")
    assert stored == f"{dutch}\n\nPo 17:00." and dutch != mailbox.MEETING_TEXTS["phone"]  # not the page's Polish
    shown = {lang: mailbox.read_mailbox(db_session, box, lang).thread[0].body for lang in LANGUAGES}
    assert shown["pl"] == "Chciałbym/chciałabym porozmawiać przez telefon.\n\nPo 17:00."
    assert shown["en"] == "I would like to talk by phone.\n\nPo 17:00." and shown["nl"] == stored
    assert len(set(shown.values())) == len(LANGUAGES)
