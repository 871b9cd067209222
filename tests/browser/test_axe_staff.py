"""axe-core finds no WCAG 2.1 A/AA violation on any handler, compliance or admin page, in Dutch and English."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from flask import Flask

from app import db
from app.services import clock, staff_auth
from app.services.submission import ReportInput, submit_report
from tests.browser.axe import axe_tab, axe_violations, describe
from tests.browser.staff import all_roles_staff

pytestmark = pytest.mark.browser

PAGES = ("/handler/login", "/handler/", "/handler/account", "/handler/case/{ref}", "/compliance/",
         "/compliance/register", "/compliance/report/{year}", "/admin/", "/admin/users/new", "/admin/users/{user}",
         "/admin/channels/misstand", "/admin/organisation", "/admin/policies", "/admin/policies/wbk",
         "/admin/audit", "/admin/channels/new")


@pytest.fixture
def staff_world(app: Flask) -> tuple[str, dict[str, str]]:
    """One person with every role, a case (overdue, with a file and a thread) and a live session cookie."""
    with app.test_request_context(), db.session_scope(app) as session:
        staff_user, cookie = all_roles_staff(session, app.config["MELDKLUIS"])
        receipt = submit_report(session, app.config["MELDKLUIS"], ReportInput(
            "misstand", "fraude", {"what": "Facturen worden dubbel betaald.", "ongoing": "yes"}),
            [("bewijs.pdf", io.BytesIO(b"%PDF-1.4"))], day=clock.today() - timedelta(days=100))
        values = {"ref": receipt.reference, "year": str(clock.today().year), "user": staff_user.id}
    return cookie, values


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_staff_pages_have_no_wcag_violation(live_server: str, chromium, staff_world, lang: str) -> None:  # type: ignore[no-untyped-def]
    cookie, values = staff_world
    failures = []
    with axe_tab(chromium) as tab:
        tab.context.add_cookies([{"name": staff_auth.COOKIE_NAME, "value": cookie,
                                  "domain": urlparse(live_server).hostname, "path": "/"}])
        for path in PAGES:
            response = tab.goto(f"{live_server}/{lang}{path.format(**values)}")
            assert response.ok, path
            violations = axe_violations(tab)
            if violations:
                failures.append(f"{path}:\n{describe(violations)}")
    assert failures == [], "\n".join(failures)
