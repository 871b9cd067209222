"""A stranger can lock no reporter out and lose no one's report (issue 10, "Availability against a stranger").

The floods run against a real server on a free loopback port, from threads, bounded in count and in time.
"""

from __future__ import annotations

import http.client
import io
import secrets
import shutil
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import crypto
from app import create_app, db
from app.config import Settings
from app.models import Attachment, Case
from app.services.defaults import ensure_defaults

from .conftest import (
    TOKEN,
    count_rows,
    credentials,
    log_in,
    report_fields,
    stored_files,
    submit_via_http,
)

FLOOD_SECONDS = 60


def http_request(base: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                 ) -> tuple[int, dict[str, str], str]:
    """One request without following redirects: (status, headers, body)."""
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    finally:
        connection.close()


def form_post(base: str, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], str]:
    return http_request(base, "POST", path, urllib.parse.urlencode(fields).encode(),
                        {"Content-Type": "application/x-www-form-urlencoded"})


def page_token(base: str, path: str) -> str:
    status, _, html = http_request(base, "GET", path)
    found = TOKEN.search(html)
    assert status == 200 and found
    return found.group(1)


def flood(count: int, threads: int, send: Callable[[int], int]) -> Counter[int]:
    """`count` calls of `send` from `threads` threads, stopped after FLOOD_SECONDS; the statuses seen."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    numbers = iter(range(count))
    deadline = time.monotonic() + FLOOD_SECONDS

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                number = next(numbers, None)
            if number is None:
                return
            try:
                status = send(number)
            except OSError:
                status = -1  # refused or reset: the service did not stay up
            with lock:
                statuses[status] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(FLOOD_SECONDS + 30)
    return statuses


# --- mailbox login ---------------------------------------------------------------------------------------


def test_a_flood_of_random_receipt_codes_does_not_delay_a_real_reporter(client: FlaskClient, live_server: str) -> None:
    code, words = credentials(submit_via_http(client).get_data(as_text=True))
    token = page_token(live_server, "/nl/brievenbus/inloggen")
    sent = [0]

    def attack(number: int) -> int:
        sent[0] += 1
        status, _, _ = form_post(live_server, "/nl/brievenbus/inloggen", {
            "csrf_token": token, "receipt_code": crypto.new_receipt_code(), "passphrase": "random guess"})
        return status

    results: Counter[int] = Counter()
    attacker = threading.Thread(target=lambda: results.update(flood(400, 8, attack)))
    attacker.start()
    # The real reporter arrives in the middle of the flood, past the budget for unknown codes (60 a minute).
    deadline = time.monotonic() + FLOOD_SECONDS
    while sent[0] < 100 and attacker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    status, headers, _ = form_post(live_server, "/nl/brievenbus/inloggen", {
        "csrf_token": token, "receipt_code": code, "passphrase": words})
    attacker.join(FLOOD_SECONDS + 40)
    assert status == 303 and "mk_mailbox=" in headers.get("set-cookie", "")  # in at the first try
    assert set(results) == {401} and sum(results.values()) == 400  # every guess answered alike, nothing failed
    status, _, _ = form_post(live_server, "/nl/brievenbus/inloggen", {  # and again after the flood
        "csrf_token": token, "receipt_code": code, "passphrase": words})
    assert status == 303


def test_a_failed_login_shows_the_form_empty(client: FlaskClient) -> None:
    code, _ = credentials(submit_via_http(client).get_data(as_text=True))
    typed = "zebra " * 80_000  # about 480 kB
    response = log_in(client, code, typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 401 and "niet juist" in html
    assert code not in html and "zebra" not in html
    assert len(html) < 20_000


# --- submission flood, budget and storage reserve ----------------------------------------------------


@pytest.fixture
def limited_app(settings: Settings, app: Flask) -> Iterator[Callable[..., Flask]]:
    """Apps with other limits on the same (emptied afterwards by `app`) database."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        new = create_app(replace(settings, **overrides))
        with db.session_scope(new) as session:
            ensure_defaults(session)
        made.append(new)
        return new

    yield make
    for new in made:
        db.engine_of(new).dispose()


MARK = "Mijn leidinggevende sjoemelt met de uren"


@pytest.mark.parametrize(("lang", "busy"), [("nl", "Er komen op dit moment veel meldingen binnen"),
                                            ("en", "Many reports are arriving at the moment")])
def test_over_the_budget_a_reporter_gets_their_text_back_in_their_language(
        limited_app: Callable[..., Flask], lang: str, busy: str) -> None:
    app = limited_app(submit_limit="2 per 10 minutes")
    client = app.test_client()
    for _ in range(2):
        assert "receipt-code" in submit_via_http(client, lang).get_data(as_text=True)
    cases = count_rows(app, Case)
    response = submit_via_http(client, lang, what=MARK, who="Piet de Vries",
                               files=[(io.BytesIO(b"bewijs " * 1000), "bewijs.txt")])
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and busy in html
    assert MARK in html and "Piet de Vries" in html  # the form comes back filled in
    assert "receipt-code" not in html
    assert count_rows(app, Case) == cases and count_rows(app, Attachment) == 0 and stored_files(app) == []


def test_storage_refuses_files_before_the_disk_is_full(limited_app: Callable[..., Flask], settings: Settings) -> None:
    settings.storage_path.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(settings.storage_path).free
    # A reserve 8 MiB under what is free now: a 64 MiB file must be refused on its way in.
    app = limited_app(storage_reserve_bytes=free - 8 * 1024 * 1024)
    client = app.test_client()
    big = io.BytesIO(secrets.token_bytes(64 * 1024 * 1024))
    response = submit_via_http(client, what=MARK, files=[(big, "groot.bin")])
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "De server kan op dit moment geen bestanden aannemen" in html and MARK in html
    assert stored_files(app) == [] and count_rows(app, Case) == 0
    # Below the reserve even a text alone is refused, kept and never half-stored.
    full = limited_app(storage_reserve_bytes=free + 1024 ** 3)
    response = submit_via_http(full.test_client(), what=MARK)
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and MARK in html and "Er komen op dit moment veel meldingen binnen" in html
    assert count_rows(full, Case) == 0 and stored_files(full) == []


def test_a_thousand_junk_reports_in_a_minute(app: Flask, live_server: str, reader: str) -> None:
    budget = 60  # the default: MELDKLUIS_SUBMIT_LIMIT = "60 per 10 minutes"
    assert app.config["MELDKLUIS"].submit_limit == f"{budget} per 10 minutes"
    token = page_token(live_server, "/nl/melden/misstand")
    up: list[int] = []

    def junk(number: int) -> int:
        fields = {"csrf_token": token, "category": "fraude", "recipients": reader,
                  **report_fields(f"onzin {number} {secrets.token_hex(8)}")}
        if number % 50 == 0:  # the service stays up: pages keep answering during the flood
            up.append(http_request(live_server, "GET", "/nl/")[0])
        return form_post(live_server, "/nl/melden/misstand", fields)[0]

    started = time.monotonic()
    statuses = flood(1000, 12, junk)
    assert time.monotonic() - started < FLOOD_SECONDS + 30
    assert sum(statuses.values()) == 1000
    assert set(statuses) <= {200, 503} and statuses[200] == budget  # a receipt or "busy", never an error
    assert up and set(up) == {200}
    # The real reporter during the flood: "busy" in Dutch, with every word they typed.
    status, headers, html = form_post(live_server, "/nl/melden/misstand", {
        "csrf_token": token, "category": "fraude", "recipients": reader, **report_fields(MARK)})
    assert status == 503 and MARK in html and "over een paar minuten opnieuw" in html
    assert count_rows(app, Case) == budget


def test_a_mailbox_reply_below_the_reserve_keeps_its_text(limited_app: Callable[..., Flask], settings: Settings,
                                                         client: FlaskClient) -> None:
    code, words = credentials(submit_via_http(client).get_data(as_text=True))  # sent while there was room
    settings.storage_path.mkdir(parents=True, exist_ok=True)
    app = limited_app(storage_reserve_bytes=shutil.disk_usage(settings.storage_path).free + 1024 ** 3)
    client = app.test_client()
    assert log_in(client, code, words).status_code == 303
    page = client.get("/nl/brievenbus").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token
    response = client.post("/nl/brievenbus/bericht", data={
        "csrf_token": token.group(1), "body": MARK, "files": [(io.BytesIO(b"bewijs"), "bewijs.txt")]},
        content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and MARK in html and "geen bestanden aannemen" in html
    assert stored_files(app) == [] and count_rows(app, Attachment) == 0
