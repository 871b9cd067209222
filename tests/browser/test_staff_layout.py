"""Staff pages fit the window: inbox and compliance on a 390 px phone, the register in 1,280 px."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from flask import Flask

from app import db
from app.services import clock, staff_auth
from app.services.submission import ReportInput, submit_report
from tests.browser.staff import all_roles_staff

pytestmark = pytest.mark.browser


@pytest.fixture
def cookie(app: Flask) -> str:
    with app.test_request_context(), db.session_scope(app) as session:
        _user, value = all_roles_staff(session, app.config["MELDKLUIS"])
        for days in (3, 40, 100, 200):
            submit_report(session, app.config["MELDKLUIS"], ReportInput(
                "misstand", "fraude", {"what": "x" * 20}), day=clock.today() - timedelta(days=days))
        return value


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
