"""axe-core finds no WCAG 2.1 A/AA violation on reporter pages, in Dutch and in English."""

from __future__ import annotations

import pytest

from tests.browser.axe import axe_tab, axe_violations, describe

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("path", ["/", "/routekaart", "/melden", "/brievenbus/inloggen"])
def test_reporter_page_has_no_wcag_violation(live_server: str, chromium, lang: str, path: str) -> None:  # type: ignore[no-untyped-def]
    with axe_tab(chromium) as tab:
        response = tab.goto(f"{live_server}/{lang}{path}")
        assert response.ok
        assert "<script" not in response.text()
        violations = axe_violations(tab)
    assert violations == [], describe(violations)
