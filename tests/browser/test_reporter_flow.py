"""The whole reporter flow in Debian's Chromium with JavaScript disabled, in Dutch and in English."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, request
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
# A click waits only until the next page starts to arrive: every check waits for what the page must show
# (generously: the suite runs on busy two-core machines), never reads the page at once.
WAIT_MS = 30_000


def shows(page, text: str) -> None:  # type: ignore[no-untyped-def]
    expect(page.locator("body")).to_contain_text(text, timeout=WAIT_MS)

TEXTS = {
    "nl": {"route": "Bekijk de routekaart", "make": "Een melding doen", "send": "Mijn melding versturen",
           "mailbox": "Naar uw brievenbus", "open": "Brievenbus openen", "reply": "Bericht versturen",
           "sent": "Uw bericht is verstuurd.", "logout": "Uitloggen", "logged_out": "U bent uitgelogd",
           "what": "Wat is er gebeurd?", "category": "Fraude", "body": "Uw bericht", "external": "Huis voor Klokkenluiders"},
    "en": {"route": "See the route map", "make": "Make a report", "send": "Send my report",
           "mailbox": "Go to your mailbox", "open": "Open mailbox", "reply": "Send message",
           "sent": "Your message has been sent.", "logout": "Log out", "logged_out": "You are logged out",
           "what": "What happened?", "category": "Fraud", "body": "Your message", "external": "Huis voor Klokkenluiders"},
}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_reporter_flow_from_start_page_to_mailbox_reply(app: Flask, live_server: str, page, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                        lang: str) -> None:
    t = TEXTS[lang]
    requests: list[str] = []
    page.on("request", lambda sent: requests.append(sent.url))
    posts: list[tuple[str | None, str | None]] = []

    @app.before_request
    def record_where_posts_come_from() -> None:
        if request.method == "POST":
            posts.append((request.headers.get("Origin"), request.headers.get("Sec-Fetch-Site")))

    evidence = tmp_path / "bewijs.txt"
    evidence.write_text("declaraties over 2025")

    page.goto(f"{live_server}/{lang}/")
    assert page.context.cookies() == []
    page.get_by_role("link", name=t["route"]).click()
    shows(page, t["external"])
    shows(page, "NZa")
    page.get_by_role("link", name=t["make"]).last.click()
    page.locator("a[href$='/melden/misstand']").click()
    page.get_by_label(t["category"], exact=True).check()
    page.get_by_label(t["what"]).fill(f"Browser report in {lang}: expense fraud.")
    page.locator("input[type=file]").set_input_files(str(evidence))
    assert page.context.cookies() == []
    page.get_by_role("button", name=t["send"]).click()

    expect(page.locator("#receipt-code")).to_be_visible(timeout=WAIT_MS)
    code = page.locator("#receipt-code").inner_text().strip()
    passphrase = page.locator("#passphrase").inner_text().strip()
    assert len(code.replace("-", "")) == 16 and len(passphrase.split()) >= 7
    assert page.context.cookies() == []

    page.locator("input[name=written]").check()  # the check step before leaving the codes
    page.get_by_role("button", name=t["mailbox"]).click()
    page.locator("#receipt_code").fill(code)
    page.locator("#passphrase").fill(passphrase)
    page.get_by_role("button", name=t["open"]).click()
    shows(page, f"Browser report in {lang}: expense fraud.")
    shows(page, "bewijs.txt")
    cookies = page.context.cookies()
    assert [c["name"] for c in cookies] == ["mk_mailbox"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict" and cookies[0]["expires"] == -1

    page.get_by_label(t["body"]).fill("Een aanvulling vanuit de browser.")
    page.get_by_role("button", name=t["reply"]).click()
    shows(page, t["sent"])
    shows(page, "Een aanvulling vanuit de browser.")

    page.get_by_role("button", name=t["logout"]).click()
    shows(page, t["logged_out"])
    assert page.context.cookies() == []
    assert requests and all(url.startswith(live_server) for url in requests)
    # Referrer-Policy same-origin keeps Origin meaningful: the browser names this site on its own posts
    # (under no-referrer Chromium sends "null"), so app/security.py can refuse any other Origin.
    assert len(posts) == 4 and set(posts) == {(live_server, "same-origin")}
