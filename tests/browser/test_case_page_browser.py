"""The case page in Debian's Chromium with JavaScript disabled: what is due, errors in view, confirmation."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from app import db
from app.models import Case, Channel, ChannelRecipient
from app.services import accounts, clock
from app.services.submission import ReportInput, submit_report

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password 123"


def _logged_in(app: Flask, live_server: str, page, days_ago: int) -> str:  # type: ignore[no-untyped-def]
    """A handler with one case received `days_ago`, logged in; returns the case reference."""
    with app.test_request_context(), db.session_scope(app) as session:
        user = accounts.create_user(session, "anna", ["handler"], display_name="Anna de Vries")
        accounts.activate_user(session, user, PASSWORD, app.config["MELDKLUIS"].handler_kdf)
        user.totp_secret = secret = pyotp.random_base32()
        channel = session.scalar(select(Channel).where(Channel.slug == "misstand"))
        assert channel is not None
        session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))
        session.flush()
        receipt = submit_report(session, app.config["MELDKLUIS"], ReportInput(
            "misstand", "fraude", {"what": "Facturen worden dubbel betaald.", "ongoing": "yes"}),
            day=clock.today() - timedelta(days=days_ago))
    page.goto(f"{live_server}/nl/handler/login")
    page.fill("#username", "anna")
    page.fill("#password", PASSWORD)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.goto(f"{live_server}/nl/handler/case/{receipt.reference}")
    return receipt.reference


def _in_view(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    """The element's box (relative to the window, as the browser scrolled it) lies within the window."""
    box = page.locator(selector).bounding_box()
    assert box is not None
    return bool(box["y"] >= -2 and box["y"] + box["height"] <= page.viewport_size["height"])  # 2 px: sub-pixel margins


def test_an_overdue_case_shows_the_risk_banner_and_days_late(app: Flask, live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    _logged_in(app, live_server, page, days_ago=102)
    banner = page.locator("#disclosure-risk")
    assert banner.is_visible() and "Risico op openbaarmaking" in banner.inner_text()
    assert page.locator("#milestone-acknowledge .overdue").inner_text() == "95 dagen te laat"
    assert "dagen te laat" in page.locator("#milestone-feedback .overdue").inner_text()
    assert page.locator("h3", has_text="Wat is er gebeurd?").is_visible()
    assert page.locator("h3", has_text="Gaat het nog door?").is_visible()


def test_an_empty_reply_shows_its_error_in_view(app: Flask, live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    _logged_in(app, live_server, page, days_ago=1)
    page.click("#reply button[type=submit]")
    error = page.locator("#reply .error")
    error.wait_for()
    assert error.inner_text() == "Schrijf eerst een tekst."
    assert page.url.endswith("#reply")
    assert _in_view(page, "#reply .error")


def test_closing_asks_for_confirmation(app: Flask, live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    reference = _logged_in(app, live_server, page, days_ago=1)
    page.select_option("#close-outcome", "unfounded")
    page.click("#close button[type=submit]")
    confirm = page.locator("#confirm")
    assert "Deze zaak afsluiten?" in confirm.inner_text() and "Ongegrond" in confirm.inner_text()
    with db.session_scope(app) as session:
        assert session.scalar(select(Case.status).where(Case.reference == reference)) == "new"
    page.get_by_role("link", name="Nee, terug").click()
    assert page.locator("#close").is_visible()
    page.click("#close button[type=submit]")
    page.get_by_role("button", name="Ja, sluit de zaak af").click()
    assert page.locator("#close-done").inner_text() == "De zaak is afgesloten."
    assert _in_view(page, "#close-done")
    with db.session_scope(app) as session:
        assert session.scalar(select(Case.status).where(Case.reference == reference)) == "closed"
