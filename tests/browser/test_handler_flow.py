"""The whole loop in Debian's Chromium with JavaScript disabled: report, acknowledge, reply, answer, feedback, close."""

from __future__ import annotations

import io
import re

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from app import db
from app.models import Case, Channel, ChannelRecipient, Milestone
from app.services import accounts, clock
from app.services.submission import ReportInput, submit_report

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password 123"
WAIT_MS = 30_000  # a busy machine; checks wait for what the page must show, never for a time


def shows(page, text: str) -> None:  # type: ignore[no-untyped-def]
    expect(page.locator("body")).to_contain_text(text, timeout=WAIT_MS)


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
    expect(first_row).to_contain_text(receipt.reference, timeout=WAIT_MS)
    assert ack_due.isoformat() in first_row.inner_text()

    first_row.locator("a").first.click()
    shows(handler, "Facturen worden dubbel betaald.")
    expect(handler.locator("#acknowledge-text")).to_have_value(re.compile("^Wij hebben uw bericht ontvangen"),
                                                               timeout=WAIT_MS)
    handler.click("#acknowledge button[type=submit]")
    expect(handler.locator("#acknowledge")).to_have_count(0, timeout=WAIT_MS)
    handler.fill("#reply-text", "Kunt u aangeven om welke facturen het gaat?")
    handler.click("#reply button[type=submit]")
    shows(handler, "Kunt u aangeven")

    reporter.goto(f"{live_server}/nl/brievenbus/inloggen")
    reporter.fill("#receipt_code", receipt.receipt_code)
    reporter.fill("#passphrase", receipt.passphrase)
    reporter.click("main button[type=submit]")
    shows(reporter, "Kunt u aangeven om welke facturen het gaat?")
    shows(reporter, "Wij hebben uw bericht ontvangen")
    reporter.fill("#body", "Het gaat om de facturen van leverancier X.")
    reporter.click("form[action$='/brievenbus/bericht'] button[type=submit]")
    shows(reporter, "leverancier X")

    handler.reload()
    shows(handler, "Het gaat om de facturen van leverancier X.")
    handler.fill("#feedback-text", "We hebben de betalingen stopgezet en onderzoeken de zaak verder.")
    handler.click("#feedback button[type=submit]")
    shows(handler, "We hebben de betalingen stopgezet")
    handler.select_option("#close-outcome", "founded")
    handler.click("#close button[type=submit]")
    expect(handler.locator("#close")).to_have_count(0, timeout=WAIT_MS)
    expect(handler.locator("#reply")).to_have_count(0, timeout=WAIT_MS)
    with db.session_scope(app) as session:
        closed = session.get(Case, receipt.case_id)
        assert closed is not None and closed.status == "closed"
        assert closed.acknowledged_on == clock.today() and closed.feedback_on == clock.today()
    reporter.reload()
    shows(reporter, "We hebben de betalingen stopgezet")
    reporter.context.close()
