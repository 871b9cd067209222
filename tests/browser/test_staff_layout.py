"""Staff pages fit the window: inbox and compliance on a 390 px phone, the register in 1,280 px."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from flask import Flask
from sqlalchemy import select

import crypto
from app import db
from app.models import Channel, ChannelRecipient, User, utcnow
from app.services import accounts, clock, staff_auth
from app.services.submission import ReportInput, submit_report

pytestmark = pytest.mark.browser
PASSWORD = "a long enough password 123"


@pytest.fixture
def cookie(app: Flask) -> str:
    with app.test_request_context(), db.session_scope(app) as session:
        user = accounts.create_user(session, "alle", ["handler", "compliance", "admin"], display_name="Alle Rollen")
        accounts.activate_user(session, user, PASSWORD, app.config["MELDKLUIS"].handler_kdf)
        for channel in session.scalars(select(Channel)):
            if session.get(ChannelRecipient, (channel.id, user.id)) is None:
                session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))
        session.flush()
        for days in (3, 40, 100, 200):
            submit_report(session, app.config["MELDKLUIS"], ReportInput(
                "misstand", "fraude", {"what": "x" * 20}), day=clock.today() - timedelta(days=days))
        staff_user = session.scalar(select(User).where(User.username == "alle"))
        assert staff_user is not None and staff_user.kdf_salt and staff_user.private_key_by_password
        key = crypto.derive_password_key(PASSWORD, staff_user.kdf_salt, app.config["MELDKLUIS"].handler_kdf)
        private_key = crypto.unwrap_private_key(staff_user.private_key_by_password, key, "password")
        return staff_auth.start_session(session, staff_user, private_key, utcnow()).cookie_value


@pytest.mark.parametrize(("width", "paths"), [
    (390, ("/nl/handler/", "/nl/compliance/", "/nl/compliance/?period=quarter")),
    (1280, ("/nl/compliance/register", "/en/compliance/register", "/nl/admin/audit")),
])
def test_pages_fit_the_window(live_server: str, chromium, cookie: str, width: int, paths: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    context = chromium.new_context(java_script_enabled=False, viewport={"width": width, "height": 800})
    context.add_cookies([{"name": staff_auth.COOKIE_NAME, "value": cookie, "domain": urlparse(live_server).hostname,
                          "path": "/"}])
    try:
        page = context.new_page()
        for path in paths:
            assert page.goto(f"{live_server}{path}").ok, path
            # Measured from outside the page (the test's own evaluation; the page runs no script).
            scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
            assert scroll_width <= width, (path, scroll_width)
    finally:
        context.close()
