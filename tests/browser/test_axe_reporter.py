"""axe-core finds no WCAG 2.1 A/AA violation on any reporter page, in Dutch and in English."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.browser.axe import axe_tab, axe_violations, describe
from tests.browser.reporter_pages import walk

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_reporter_page_has_no_wcag_violation(app: Flask, live_server: str, reader: str, chromium, lang: str) -> None:  # type: ignore[no-untyped-def]
    found: dict[str, str] = {}
    with axe_tab(chromium) as tab:

        def check(name: str) -> None:
            assert "<script" not in tab.content()
            violations = axe_violations(tab)
            if violations:
                found[name] = describe(violations)

        visited = walk(tab, live_server, lang, app, check)
    assert len(visited) >= 18
    assert found == {}, "\n".join(f"== {name}\n{text}" for name, text in found.items())
