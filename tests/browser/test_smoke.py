"""Debian's Chromium with JavaScript disabled renders the start page from a real server."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_start_page_renders_without_javascript(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server}/nl/")
    assert page.locator("h1").inner_text()
    assert page.context.cookies() == []
    assert all(url.startswith(live_server) for url in requests)
