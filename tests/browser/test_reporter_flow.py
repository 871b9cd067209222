"""The whole reporter flow in Debian's Chromium with JavaScript disabled, in Dutch and in English."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

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
def test_reporter_flow_from_start_page_to_mailbox_reply(live_server: str, page, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                        lang: str) -> None:
    t = TEXTS[lang]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    evidence = tmp_path / "bewijs.txt"
    evidence.write_text("declaraties over 2025")

    page.goto(f"{live_server}/{lang}/")
    assert page.context.cookies() == []
    page.get_by_role("link", name=t["route"]).click()
    assert t["external"] in page.content() and "NZa" in page.content()
    page.get_by_role("link", name=t["make"]).last.click()
    page.locator("a[href$='/melden/misstand']").click()
    page.get_by_label(t["category"], exact=True).check()
    page.get_by_label(t["what"]).fill(f"Browser report in {lang}: expense fraud.")
    page.locator("input[type=file]").set_input_files(str(evidence))
    assert page.context.cookies() == []
    page.get_by_role("button", name=t["send"]).click()

    code = page.locator("#receipt-code").inner_text().strip()
    passphrase = page.locator("#passphrase").inner_text().strip()
    assert len(code.replace("-", "")) == 16 and len(passphrase.split()) >= 7
    assert page.context.cookies() == []

    page.locator("input[name=written]").check()  # the check step before leaving the codes
    page.get_by_role("button", name=t["mailbox"]).click()
    page.locator("#receipt_code").fill(code)
    page.locator("#passphrase").fill(passphrase)
    page.get_by_role("button", name=t["open"]).click()
    cookies = page.context.cookies()
    assert [c["name"] for c in cookies] == ["mk_mailbox"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict" and cookies[0]["expires"] == -1
    assert f"Browser report in {lang}: expense fraud." in page.content()
    assert "bewijs.txt" in page.content()

    page.get_by_label(t["body"]).fill("Een aanvulling vanuit de browser.")
    page.get_by_role("button", name=t["reply"]).click()
    assert t["sent"] in page.content()
    assert "Een aanvulling vanuit de browser." in page.content()

    page.get_by_role("button", name=t["logout"]).click()
    assert t["logged_out"] in page.content()
    assert page.context.cookies() == []
    assert requests and all(url.startswith(live_server) for url in requests)
