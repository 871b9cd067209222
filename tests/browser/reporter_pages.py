"""A walk through every reporter page a reporter can meet, GET and POST results alike, in one language.

The browser tests call `walk()` with a check to run on each page (axe, the 320 px reflow); it drives the
pages through their forms, as a reporter would, so pages shown after a POST are checked too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import delete

from app import db
from app.models import ReporterSession

CHANNELS = ("misstand", "integriteit", "omgangsvormen", "vertrouwenspersoon")


def _end_mailbox_sessions(app: Flask) -> None:
    with db.session_scope(app) as session:
        session.execute(delete(ReporterSession))


def walk(page: Any, live_server: str, lang: str, app: Flask, check: Callable[[str], None]) -> list[str]:
    """Visit every reporter page in `lang`, calling `check(name)` on each; returns the names visited."""
    seen: list[str] = []

    def at(name: str) -> None:
        seen.append(name)
        check(name)

    base = f"{live_server}/{lang}"
    for path, name in (("/", "start"), ("/routekaart", "route_map"), ("/melden", "choose_channel")):
        page.goto(base + path)
        at(name)
    for slug in CHANNELS:
        page.goto(f"{base}/melden/{slug}")
        at(f"submit_{slug}")
    page.goto(f"{base}/melden/misstand")
    page.locator("form[enctype] button[type=submit]").click()
    page.locator(".error-summary").wait_for()
    at("submit_with_errors")
    page.locator("#category-0").check()
    page.locator("#what").fill("A report to walk the pages with.")
    page.locator("form[enctype] button[type=submit]").click()
    code = page.locator("#receipt-code").inner_text().strip()
    passphrase = page.locator("#passphrase").inner_text().strip()
    at("receipt")
    page.reload()
    page.locator("h1").wait_for()
    at("already_received")

    def log_in(words: str) -> None:
        page.locator("#receipt_code").fill(code)
        page.locator("#passphrase").fill(words)
        page.locator("main form button[type=submit]").click()

    page.goto(f"{base}/brievenbus/inloggen")
    at("login")
    log_in("wrong words")
    page.locator("p.error").wait_for()
    at("login_failed")
    log_in(passphrase)
    page.locator("#thread").wait_for()
    at("mailbox")
    page.locator("form[action$='/brievenbus/bericht'] button[type=submit]").click()
    page.locator("#body[aria-invalid=true]").wait_for()
    at("mailbox_with_errors")
    page.locator("#identity").fill("Jan Jansen")
    page.locator("form[action$='/brievenbus/identiteit'] button[type=submit]").click()
    page.locator("button[value=share]").wait_for()
    at("identity_confirm")
    page.locator("button[value=edit]").click()
    page.locator("#body").fill("A reply that outlives its session.")
    _end_mailbox_sessions(app)
    page.locator("form[action$='/brievenbus/bericht'] button[type=submit]").click()
    page.locator("#unsent").wait_for()
    at("login_with_unsent_text")
    log_in(passphrase)
    page.locator("#thread").wait_for()
    page.locator("header form button[type=submit]").click()
    page.locator("#receipt_code").wait_for()
    at("logged_out")
    page.goto(f"{base}/no-such-page")
    at("not_found")
    return seen
