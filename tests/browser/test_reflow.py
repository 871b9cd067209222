"""WCAG 1.4.10 reflow: every reporter page at 320 CSS pixels wide scrolls only vertically (JavaScript off)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.browser.reporter_pages import walk

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_reporter_page_reflows_at_320_px(app: Flask, live_server: str, reader: str, page, tmp_path: Path,  # type: ignore[no-untyped-def]
                                               lang: str) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    too_wide: dict[str, int] = {}

    def check(name: str) -> None:
        width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        if width > 320:
            too_wide[name] = width
        # Kept for a person to look at (pytest's tmp folder): the layout, not only the width, must make sense.
        page.screenshot(path=str(tmp_path / f"{lang}-{name}.png"), full_page=True)

    visited = walk(page, live_server, lang, app, check)
    assert len(visited) >= 18 and len(list(tmp_path.glob("*.png"))) == len(visited)
    assert too_wide == {}
