"""The reporter pages over HTTP: headers, CSRF, cookies, login uniformity, login budget and bad input."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app, db
from app.models import Attachment, Case, Message
from app.security import CONTENT_SECURITY_POLICY
from app.services.defaults import ensure_defaults

from .conftest import (
    count_rows,
    credentials,
    csrf_token,
    log_in,
    multipart_body,
    report_form,
    stored_files,
    submit_form_data,
    submit_via_http,
)

PUBLIC_PAGES = ("/{lang}/", "/{lang}/routekaart", "/{lang}/melden", "/{lang}/melden/misstand",
                "/{lang}/melden/omgangsvormen", "/{lang}/brievenbus/inloggen")
ISSUE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
             "frame-ancestors 'none'; base-uri 'none'")


def logged_in_client(client: FlaskClient, lang: str = "nl") -> FlaskClient:
    code, words = credentials(submit_via_http(client, lang).get_data(as_text=True))
    assert log_in(client, code, words, lang).status_code == 303
    return client


def check_headers(response, *, no_store: bool) -> None:  # type: ignore[no-untyped-def]
    assert response.headers["Content-Security-Policy"] == ISSUE_CSP == CONTENT_SECURITY_POLICY
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Server" not in response.headers
    if no_store:
        assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_reporter_page_has_strict_headers_and_sets_no_cookie(client: FlaskClient, lang: str) -> None:
    for path in PUBLIC_PAGES:
        response = client.get(path.format(lang=lang))
        assert response.status_code == 200, path
        check_headers(response, no_store=False)
        assert "Set-Cookie" not in response.headers, path
        assert "<script" not in response.get_data(as_text=True)
    receipt = submit_via_http(client, lang)
    assert receipt.status_code == 200
    check_headers(receipt, no_store=True)
    assert "Set-Cookie" not in receipt.headers
    code, words = credentials(receipt.get_data(as_text=True))
    failed = log_in(client, code, "wrong words", lang)
    assert "Set-Cookie" not in failed.headers
    assert client.get_cookie("mk_mailbox") is None and not list(client._cookies)  # type: ignore[attr-defined]
    response = log_in(client, code, words, lang)
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("mk_mailbox=")
    attributes = [a.strip().lower() for a in cookies[0].split(";")[1:]]
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes
    assert not any(a.startswith(("max-age", "expires")) for a in attributes)
    mailbox = client.get(f"/{lang}/brievenbus")
    assert mailbox.status_code == 200
    check_headers(mailbox, no_store=True)


def test_secure_cookie_and_onion_location_when_configured(settings, reader) -> Iterator[None]:  # type: ignore[no-untyped-def]
    # `reader` (on the suite's app, same database) receives the report and empties the tables afterwards.
    onion = "meldkluisexampleabcdefghijklmnopqrstuvwxyz234567abcdefgh.onion"
    app = create_app(replace(settings, onion_address=onion, secure_cookies=True))
    with db.session_scope(app) as session:
        ensure_defaults(session)
    try:
        client = app.test_client()
        for path in PUBLIC_PAGES:
            response = client.get(path.format(lang="nl"))
            assert response.headers["Onion-Location"] == f"http://{onion}{path.format(lang='nl')}"
        code, words = credentials(submit_via_http(client).get_data(as_text=True))
        cookie = log_in(client, code, words).headers["Set-Cookie"]
        assert "Secure" in cookie
    finally:
        db.engine_of(app).dispose()


def post_routes(client: FlaskClient) -> list[tuple[str, dict[str, object]]]:
    return [
        ("/nl/melden/misstand", {**submit_form_data(""), "files": [(io.BytesIO(b"file"), "a.txt")]}),
        ("/nl/brievenbus/inloggen", {"receipt_code": "x", "passphrase": "y"}),
        ("/nl/brievenbus/bericht", {"body": "hallo", "files": [(io.BytesIO(b"file"), "b.txt")]}),
        ("/nl/brievenbus/gesprek", {"way": "phone", "note": "ok"}),
        ("/nl/brievenbus/identiteit", {"identity": "Jan"}),
        ("/nl/brievenbus/uitloggen", {}),
    ]


@pytest.mark.parametrize("token", [None, "forged-token", "wrong-binding"])
def test_every_post_needs_a_valid_csrf_token(app: Flask, client: FlaskClient, token: str | None) -> None:
    logged_in_client(client)
    cases, messages, files = count_rows(app, Case), count_rows(app, Message), len(stored_files(app))
    # A token made before login is bound to no session: it must not work inside the mailbox.
    unbound = csrf_token(app.test_client(), "/nl/brievenbus/inloggen")
    for path, data in post_routes(client):
        body = dict(data)
        if token == "forged-token":
            body["csrf_token"] = "eyJhIjoxfQ.forged.signature"
        elif token == "wrong-binding":
            if "brievenbus/inloggen" in path or "melden" in path:
                continue
            body["csrf_token"] = unbound
        else:
            body.pop("csrf_token", None)
        response = client.post(path, data=body, content_type="multipart/form-data")
        assert response.status_code == 400, path
        assert "Nothing was stored" in response.get_data(as_text=True) or "niets opgeslagen" in response.get_data(
            as_text=True)
    assert (count_rows(app, Case), count_rows(app, Message), len(stored_files(app))) == (cases, messages, files)
    assert client.get("/nl/brievenbus").status_code == 200  # still logged in: logout was refused too


def test_cross_site_posts_are_refused(client: FlaskClient) -> None:
    token = csrf_token(client, "/nl/brievenbus/inloggen")
    response = client.post("/nl/brievenbus/inloggen", data={"csrf_token": token},
                           headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400


def strip_token(html: str) -> str:
    return re.sub(r'value="[^"]*"', "", html)


def test_login_failures_look_the_same(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import crypto

    code, words = credentials(submit_via_http(client).get_data(as_text=True))
    calls = [0]
    real = crypto.derive_reporter_keys

    def counting(*args: object) -> crypto.ReporterKeys:
        calls[0] += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(crypto, "derive_reporter_keys", counting)
    pages = []
    for attempt_code, attempt_words in [(crypto.new_receipt_code(), words), (code, "wrong words")]:
        before = calls[0]
        response = log_in(client, attempt_code, attempt_words)
        assert calls[0] == before + 1
        pages.append((response.status_code, strip_token(response.get_data(as_text=True))))
    assert pages[0] == pages[1]
    assert "niet juist" in pages[0][1]


def test_unknown_codes_have_their_own_budget_and_change_no_answer(settings, reader, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Unknown receipt codes stop costing a derivation once their budget is used; a real reporter is never refused."""
    import crypto

    app = create_app(replace(settings, login_unknown_limit="3 per minute"))
    with db.session_scope(app) as session:
        ensure_defaults(session)
    calls = [0]
    real = crypto.derive_reporter_keys

    def counting(*args: object) -> crypto.ReporterKeys:
        calls[0] += 1
        return real(*args)  # type: ignore[arg-type]

    try:
        client = app.test_client()
        code, words = credentials(submit_via_http(client).get_data(as_text=True))
        monkeypatch.setattr(crypto, "derive_reporter_keys", counting)
        pages = set()
        for _ in range(6):
            response = log_in(app.test_client(), crypto.new_receipt_code(), "x")
            pages.add((response.status_code, strip_token(response.get_data(as_text=True))))
        assert calls[0] == 3
        wrong = log_in(app.test_client(), code, "wrong words")
        pages.add((wrong.status_code, strip_token(wrong.get_data(as_text=True))))
        assert len(pages) == 1 and next(iter(pages))[0] == 401  # within or beyond the budget, known or not
        assert log_in(app.test_client(), code, words).status_code == 303
    finally:
        db.engine_of(app).dispose()


def test_mailbox_pages_need_a_login(client: FlaskClient) -> None:
    response = client.get("/nl/brievenbus")
    assert response.status_code == 302 and "/nl/brievenbus/inloggen" in response.headers["Location"]
    client.set_cookie("mk_mailbox", "abc.def")
    response = client.get("/nl/brievenbus")
    assert "expired=1" in response.headers["Location"]


# --- bad input ---------------------------------------------------------------------------------------


def nothing_stored(app: Flask) -> bool:
    return count_rows(app, Case) == 0 and count_rows(app, Attachment) == 0 and stored_files(app) == []


def test_missing_answer_keeps_everything_typed(app: Flask, client: FlaskClient) -> None:
    response = submit_via_http(client, what="", who="de teamleider van inkoop",
                               files=[(io.BytesIO(b"x"), "a.txt")])
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Beantwoord deze vraag alstublieft." in html
    assert "de teamleider van inkoop" in html and re.search(r'checked[^>]*value="fraude"', html)
    assert "kies uw bestanden opnieuw" in html.lower()
    assert nothing_stored(app)


def test_overlong_text_gets_a_clear_message(app: Flask, client: FlaskClient) -> None:
    response = submit_via_http(client, where="w" * 20_001)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "te lang" in html and "w" * 20_001 in html
    assert nothing_stored(app)


def test_too_many_files(app: Flask, client: FlaskClient) -> None:
    files = [(io.BytesIO(b"x"), f"{i}.txt") for i in range(11)]
    response = submit_via_http(client, files=files, lang="en")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "at most 10 files" in html
    assert nothing_stored(app)


def test_too_large_file_gives_a_friendly_413_and_stores_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(replace(settings, max_file_bytes=1024 * 1024))
    with db.session_scope(app) as session:
        ensure_defaults(session)
    try:
        client = app.test_client()
        big = io.BytesIO(b"z" * (1024 * 1024 + 10))
        response = submit_via_http(client, files=[(io.BytesIO(b"small"), "a.txt"), (big, "big.bin")],
                                   how_known="ik was erbij")
        html = response.get_data(as_text=True)
        assert response.status_code == 413
        assert "groter dan 1 MB" in html and "ik was erbij" in html
        assert nothing_stored(app)
    finally:
        db.engine_of(app).dispose()


def test_a_report_to_an_unknown_channel_is_a_404_and_stores_nothing(app: Flask, client: FlaskClient) -> None:
    # The channel is looked up once the body (with its files, encrypted as they arrive) is in.
    token = csrf_token(client, "/nl/melden/misstand")
    data = {**submit_form_data(token), "files": [(io.BytesIO(b"bijlage"), "a.txt")]}
    response = client.post("/nl/melden/bestaat-niet", data=data, content_type="multipart/form-data")
    assert response.status_code == 404
    assert nothing_stored(app)


def test_invalid_utf8_in_a_field(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client, "/nl/melden/misstand")
    body, content_type = multipart_body(
        [("csrf_token", token.encode()), ("category", b"fraude"), ("what", b"geld \xff\xfe weg")], [])
    response = client.post("/nl/melden/misstand", data=body, content_type=content_type)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "konden niet worden gelezen" in html and "geld" in html
    assert nothing_stored(app)


def test_hostile_file_names_are_cleaned(app: Flask, client: FlaskClient) -> None:
    form = report_form(client, "/nl/melden/misstand")
    token, (reader,) = form["csrf_token"], form["recipients"]
    names = [b"../../etc/passwd", b"C:\\Users\\jan\\secret.docx", b"bad\x07\x1bname\xe2\x80\xae.txt",
             b"caf\xe9-\xff.pdf", ("x" * 400 + ".pdf").encode()]
    body, content_type = multipart_body(
        [("csrf_token", token.encode()), ("category", b"fraude"), ("what", b"zie bijlagen"),
         ("recipients", reader.encode())],
        [(name, b"content") for name in names])
    response = client.post("/nl/melden/misstand", data=body, content_type=content_type)
    assert response.status_code == 200, response.get_data(as_text=True)
    code, words = credentials(response.get_data(as_text=True))
    log_in(client, code, words)
    html = client.get("/nl/brievenbus").get_data(as_text=True)
    shown = sorted(re.findall(r'/brievenbus/bijlage/[0-9a-f]+">([^<]*)<', html))
    assert len(shown) == len(names)
    assert all("/" not in n and "\\" not in n and ".." not in n and len(n) <= 120 for n in shown)
    assert all(not any(ord(ch) < 32 or ch == "\u202e" for ch in n) for n in shown)
    assert "passwd" in shown and "badname.txt" in shown and "caf\ufffd-\ufffd.pdf" in shown
    assert "x" * 116 + ".pdf" in shown and any(n.endswith("secret.docx") for n in shown)
    link = re.search(r'href="(/nl/brievenbus/bijlage/[0-9a-f]+)"', html)
    assert link
    download = client.get(link.group(1))
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Content-Type"] == "application/octet-stream" and download.data == b"content"


def test_storage_failure_mid_upload_shows_an_error_and_leaves_nothing(app: Flask, client: FlaskClient,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services import storage

    real_write = storage.AttachmentWriter.write
    written = [0]

    def failing_write(self: storage.AttachmentWriter, data: bytes) -> None:
        written[0] += 1
        if written[0] > 1:  # the second file's first write
            raise OSError("disk full")
        real_write(self, data)

    monkeypatch.setattr(storage.AttachmentWriter, "write", failing_write)
    response = submit_via_http(client, files=[(io.BytesIO(b"a" * 300_000), "a.bin"),
                                              (io.BytesIO(b"b" * 300_000), "b.bin")])
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "receipt-code" not in html and "Er is niets opgeslagen" in html
    assert nothing_stored(app)
    assert written[0] > 1


def test_database_failure_at_commit_leaves_no_files(app: Flask, client: FlaskClient,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.orm import Session

    def failing_commit(self: Session) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(Session, "commit", failing_commit)
    response = submit_via_http(client, files=[(io.BytesIO(b"a" * 1000), "a.bin")])
    monkeypatch.undo()
    assert response.status_code == 500 and "receipt-code" not in response.get_data(as_text=True)
    assert nothing_stored(app)


def test_reply_errors_keep_the_text(app: Flask, client: FlaskClient) -> None:
    logged_in_client(client)
    token = csrf_token(client, "/nl/brievenbus")
    response = client.post("/nl/brievenbus/bericht", data={"csrf_token": token, "body": "b" * 20_001,
                                                           "files": [(io.BytesIO(b"f"), "f.txt")]},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "b" * 20_001 in html and "te lang" in html
    assert count_rows(app, Message) == 0 and count_rows(app, Attachment) == 0
