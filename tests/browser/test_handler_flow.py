"""The whole loop in Debian's Chromium with JavaScript disabled: report, acknowledge, reply, answer, feedback, close."""

from __future__ import annotations

import io

import pyotp
import pytest
from babel.dates import format_date
from flask import Flask
from sqlalchemy import select

from app import db
from app.models import Case, Channel, ChannelRecipient, Milestone
from app.services import accounts, clock
from app.services.submission import ReportInput, submit_report

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password 123"


def _handler(app: Flask) -> str:
    with app.test_request_context(), db.session_scope(app) as session:
        user = accounts.create_user(session, "anna", ["handler"], display_name="Anna de Vries")
        accounts.activate_user(session, user, PASSWORD, app.config["MELDKLUIS"].handler_kdf)
        user.totp_secret = pyotp.random_base32()
        channel = session.scalar(select(Channel).where(Channel.slug == "misstand"))
        assert channel is not None
        session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))
        return user.totp_secret


def test_report_to_closed_case_in_a_real_browser(app: Flask, live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    secret = _handler(app)
    with app.test_request_context(), db.session_scope(app) as session:
        receipt = submit_report(session, app.config["MELDKLUIS"], ReportInput(
            "misstand", "fraude", {"what": "Facturen worden dubbel betaald."}), [("bewijs.pdf", io.BytesIO(b"%PDF"))])
        case = session.get(Case, receipt.case_id)
        assert case is not None
        ack_due = session.scalar(select(Milestone.due_on).where(Milestone.case_id == case.id,
                                                                Milestone.kind == "acknowledge"))
    assert ack_due is not None
    context = page.context
    handler = page
    reporter = context.browser.new_context(java_script_enabled=False).new_page()

    handler.goto(f"{live_server}/nl/handler/login")
    handler.fill("#username", "anna")
    handler.fill("#password", PASSWORD)
    handler.fill("#code", pyotp.TOTP(secret).now())
    handler.click("button[type=submit]")
    first_row = handler.locator("table.inbox tbody tr").first
    assert receipt.reference in first_row.inner_text()
    assert format_date(ack_due, "medium", locale="nl") in first_row.inner_text()

    first_row.locator("a").first.click()
    assert "Facturen worden dubbel betaald." in handler.content()
    assert handler.locator("#acknowledge-text").input_value().startswith("Wij hebben uw melding")
    handler.click("#acknowledge button[type=submit]")
    handler.fill("#reply-text", "Kunt u aangeven om welke facturen het gaat?")
    handler.click("#reply button[type=submit]")
    assert "Kunt u aangeven" in handler.content()

    reporter.goto(f"{live_server}/nl/brievenbus/inloggen")
    reporter.fill("#receipt_code", receipt.receipt_code)
    reporter.fill("#passphrase", receipt.passphrase)
    reporter.click("main button[type=submit]")
    assert "Kunt u aangeven om welke facturen het gaat?" in reporter.content()
    assert "Wij hebben uw melding" in reporter.content()
    reporter.fill("#body", "Het gaat om de facturen van leverancier X.")
    reporter.click("form[action$='/brievenbus/bericht'] button[type=submit]")
    assert "leverancier X" in reporter.content()

    handler.reload()
    assert "Het gaat om de facturen van leverancier X." in handler.content()
    handler.fill("#feedback-text", "We hebben de betalingen stopgezet en onderzoeken de zaak verder.")
    handler.click("#feedback button[type=submit]")
    handler.select_option("#close-outcome", "founded")
    handler.click("#close button[type=submit]")
    handler.get_by_role("button", name="Ja, sluit de zaak af").click()
    assert handler.locator("#close").count() == 0 and handler.locator("#reply").count() == 0
    with db.session_scope(app) as session:
        closed = session.get(Case, receipt.case_id)
        assert closed is not None and closed.status == "closed"
        assert closed.acknowledged_on == clock.today() and closed.feedback_on == clock.today()
    reporter.reload()
    assert "We hebben de betalingen stopgezet" in reporter.content()
    reporter.context.close()
