"""A frightened reporter on a phone, JavaScript off: nothing typed is lost, one submission makes one case,
the passphrase works in either language, the route map leads to one channel, irreversible steps are confirmed."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from app import db
from app.models import Case, ReporterSession
from app.services.submission import Receipt, ReportInput, submit_report

pytestmark = pytest.mark.browser


def _report(app: Flask, **fields: str) -> Receipt:
    with app.test_request_context(), db.session_scope(app) as session:
        return submit_report(session, app.config["MELDKLUIS"], ReportInput(
            "misstand", "fraude", {"what": "Facturen worden dubbel betaald.", **fields}))


def _login(page, live_server: str, lang: str, receipt: Receipt, passphrase: str | None = None) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/{lang}/brievenbus/inloggen")
    page.locator("#receipt_code").fill(receipt.receipt_code)
    page.locator("#passphrase").fill(passphrase or receipt.passphrase)
    page.locator("form button[type=submit]").click()


def _case_count(app: Flask) -> int:
    with db.session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_reply_sent_after_the_session_ended_comes_back_with_its_text(app: Flask, live_server: str, reader: str, page,  # type: ignore[no-untyped-def]
                                                                      lang: str) -> None:
    receipt = _report(app)
    _login(page, live_server, lang, receipt)
    box = page.locator("#body")
    hint = page.locator("#" + box.get_attribute("aria-describedby").split()[0])
    assert "15" in hint.inner_text()
    long_text = "Een lang antwoord dat niet verloren mag gaan.\nTweede regel met details."
    box.fill(long_text)
    with db.session_scope(app) as session:  # the session ends while the reporter types (idle, purged)
        session.execute(delete(ReporterSession))
    page.locator("form[action$='/brievenbus/bericht'] button[type=submit]").click()

    kept = page.locator("#unsent")
    assert kept.input_value() == long_text
    assert "/brievenbus/inloggen" not in page.url  # the answer to the POST itself: nothing stored anywhere
    assert page.context.cookies() == []
    page.locator("#receipt_code").fill(receipt.receipt_code)
    page.locator("#passphrase").fill(receipt.passphrase)
    page.locator("form button[type=submit]").click()

    assert page.locator("#body").input_value() == long_text  # back in its box, not sent
    assert long_text not in page.locator(".thread").inner_text()
    page.locator("form[action$='/brievenbus/bericht'] button[type=submit]").click()
    page.locator(".thread").get_by_text("Tweede regel met details.").wait_for()


def test_reload_and_back_after_the_receipt_make_no_second_case(app: Flask, live_server: str, reader: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/en/melden/misstand")
    assert page.locator("form[enctype]").get_attribute("autocomplete") == "off"
    page.get_by_label("Fraud", exact=True).check()
    page.locator("#what").fill("Expense claims are paid twice.")
    page.get_by_role("button", name="Send my report").click()
    page.locator("#receipt-code").wait_for()
    assert _case_count(app) == 1

    page.reload()  # Chromium sends the form again
    page.get_by_role("heading", name="Your report was already received").wait_for()
    assert "cannot show them again" in page.locator("main").inner_text()
    assert page.locator("#receipt-code").count() == 0
    assert _case_count(app) == 1

    page.go_back()
    page.locator("#what").wait_for()
    assert page.locator("#what").input_value().strip() == ""  # the text is not restored (autocomplete=off)
    assert _case_count(app) == 1


def _report_in_browser(page, live_server: str, lang: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/{lang}/melden/misstand")
    page.locator("#category-0").check()
    page.locator("#what").fill(f"Report written on the {lang} pages.")
    page.locator("form[enctype] button[type=submit]").click()
    code = page.locator("#receipt-code").inner_text().strip()
    return code, page.locator("#passphrase").inner_text().strip()


@pytest.mark.parametrize(("made_in", "opened_in"), [("nl", "en"), ("en", "nl")])
def test_a_passphrase_in_one_language_opens_the_mailbox_from_the_other(live_server: str, reader: str, page, tmp_path,  # type: ignore[no-untyped-def]
                                                                      made_in: str, opened_in: str) -> None:
    from crypto.reporter import wordlist

    code, passphrase = _report_in_browser(page, live_server, made_in)
    words = passphrase.split()
    assert len(words) == {"nl": 8, "en": 7}[made_in] and set(words) <= set(wordlist(made_in))
    assert page.locator("#passphrase").get_attribute("lang") == made_in
    label = {"nl": "Wachtzin", "en": "Passphrase"}[made_in]
    assert page.get_by_role("heading", name=label).count() == 1

    with page.expect_download() as download:  # the codes as a file: no script, no server, allowed by the CSP
        page.locator("#save-codes").click()
    saved = (tmp_path / "codes.txt")
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert code in text and passphrase in text and download.value.suggested_filename == "meldkluis-codes.txt"

    page.locator("form.check-step button").click()  # the check step holds until the box is ticked
    assert page.locator("#receipt-code").count() == 1
    page.locator("input[name=written]").check()
    page.locator("form.check-step button").click()
    page.locator("#receipt_code").wait_for()

    page.goto(f"{live_server}/{opened_in}/brievenbus/inloggen")
    page.locator("#receipt_code").fill(code)
    page.locator("#passphrase").fill(passphrase.upper())
    page.locator("form button[type=submit]").click()
    page.get_by_text(f"Report written on the {made_in} pages.").wait_for()
    assert [c["name"] for c in page.context.cookies()] == ["mk_mailbox"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_route_map_questions_each_lead_to_one_channel(live_server: str, reader: str, page, lang: str) -> None:  # type: ignore[no-untyped-def]
    expected = {  # question -> the one channel a "yes" leads to
        "nl": [("Wilt u eerst in vertrouwen met iemand praten?", "vertrouwenspersoon", "Vraag aan de vertrouwenspersoon"),
               ("Gaat het om hoe iemand met u omgaat?", "omgangsvormen", "Ongewenste omgangsvormen"),
               ("Schaadt het de samenleving?", "misstand", "Vermoeden van een misstand"),
               ("Breekt iemand de regels van de organisatie?", "integriteit", "Integriteitsschending")],
        "en": [("Do you want to talk to someone in confidence first?", "vertrouwenspersoon",
                "Question for the confidential adviser"),
               ("Is it about how someone treats you?", "omgangsvormen", "Unwanted behaviour"),
               ("Does it harm society?", "misstand", "Suspected wrongdoing"),
               ("Does someone break the rules of the organisation?", "integriteit", "Integrity violation")],
    }[lang]
    for question, slug, channel_name in expected:
        page.goto(f"{live_server}/{lang}/routekaart")
        card = page.locator("ol.route > li").filter(has=page.get_by_role("heading", name=question, exact=True))
        links = card.get_by_role("link")
        assert links.count() == 1
        wbk = "Wbk" in card.inner_text()
        assert wbk == (slug == "misstand")  # the protection is stated where it applies, and only there
        links.click()
        page.get_by_role("heading", level=1, name=channel_name).wait_for()
        assert page.url.endswith(f"/{lang}/melden/{slug}")
    page.goto(f"{live_server}/{lang}/routekaart")
    main = page.locator("main").inner_text()
    assert main.count("Wbk") == 2  # the misstand question, and the word explained under "hard words"
    if lang == "en":
        assert page.locator("dt span[lang=nl]", has_text="vertrouwenspersoon").count() == 1
        assert page.locator("strong[lang=nl]", has_text="Huis voor Klokkenluiders").count() == 1


def test_sharing_identity_goes_through_a_confirmation_that_says_who_reads_it(app: Flask, live_server: str,  # type: ignore[no-untyped-def]
                                                                             page) -> None:
    from app.models import Channel, ChannelRecipient
    from app.services import accounts

    with app.test_request_context(), db.session_scope(app) as session:
        user = accounts.create_user(session, "anna", ["handler"], display_name="Anna de Vries")
        accounts.activate_user(session, user, "a long enough password 123", app.config["MELDKLUIS"].handler_kdf)
        channel = session.scalar(select(Channel).where(Channel.slug == "misstand"))
        assert channel is not None
        session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))
    receipt = _report(app)
    _login(page, live_server, "en", receipt)
    page.locator("#identity").fill("Jan Jansen, 06-12345678")
    page.get_by_role("button", name="Share my identity").click()

    page.get_by_role("heading", level=1, name="Share your identity?").wait_for()
    main = page.locator("main").inner_text()
    assert "Anna de Vries" in main and "You cannot take this back." in main and "Jan Jansen, 06-12345678" in main
    with db.session_scope(app) as session:
        assert session.get(Case, receipt.case_id).identity_sealed is None  # nothing shared yet

    page.get_by_role("button", name="No, go back to my mailbox").click()
    assert page.locator("#identity").input_value().strip() == "Jan Jansen, 06-12345678"
    page.get_by_role("button", name="Share my identity").click()
    page.get_by_role("button", name="Yes, share my identity").click()
    page.get_by_text("Your identity has been shared with the handlers.").wait_for()
    with db.session_scope(app) as session:
        assert session.get(Case, receipt.case_id).identity_sealed is not None


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_on_a_phone_the_three_warnings_come_before_the_buttons(live_server: str, page, lang: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/{lang}/")
    warnings = page.locator("ul.warnings > li")
    assert warnings.count() == 3
    last_warning = warnings.nth(2).bounding_box()
    first_button = page.locator("p.actions a.button").first.bounding_box()
    assert last_warning and first_button and last_warning["y"] + last_warning["height"] <= first_button["y"]
    assert first_button["y"] < 844  # all of it on the first screen
    assert "Tor Browser" in warnings.nth(1).inner_text()
