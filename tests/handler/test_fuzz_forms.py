"""Hypothesis drives every form of every audience with hostile input: never a 500, every refusal says what is
wrong, and the database and storage stay consistent.

The forms are found by crawling each audience's pages (so a new form is fuzzed without touching this file).
Every field may be left out, repeated, kept at the page's own value, or replaced by arbitrary text (any
Unicode, NUL, RTL marks), a very long text, or raw bytes that are not UTF-8; the body may be multipart or
urlencoded whatever the form says. `make test` runs a short, repeatable budget; `make fuzz` a long one with fresh
random examples (MELDKLUIS_FUZZ_EXAMPLES, MELDKLUIS_FUZZ_RANDOM).
"""

from __future__ import annotations

import html
import os
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app import db
from app.models import Attachment, Case, Participant

from .conftest import Member

EXAMPLES = int(os.environ.get("MELDKLUIS_FUZZ_EXAMPLES", "12"))
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTR = re.compile(r'([\w-]+)="([^"]*)"')
FIELD = re.compile(r"<(input|textarea|select)\b([^>]*)>", re.I)
LINK = re.compile(r'href="(/[^"#?]*)"')
SKIPPED_ACTIONS = ("/logout", "/uitloggen")  # ending the session only makes later examples shallower
MESSAGE_MARKERS = ('role="alert"', 'class="error"', 'class="notice"')


@dataclass(frozen=True)
class Form:
    action: str
    multipart: bool
    fields: tuple[tuple[str, str], ...]  # name, the page's own value

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.fields))


@dataclass
class Audience:
    client: FlaskClient
    forms: list[Form] = field(default_factory=list)


def find_forms(page_path: str, body: str) -> list[Form]:
    forms = []
    for attributes, inner in FORM.findall(body):
        attrs = dict(ATTR.findall(attributes))
        if attrs.get("method", "get").lower() != "post":
            continue
        action = html.unescape(attrs.get("action") or page_path).split("#", 1)[0]  # the fragment only scrolls
        if action.endswith(SKIPPED_ACTIONS):
            continue
        fields = []
        for _, field_attrs in FIELD.findall(inner):
            named = dict(ATTR.findall(field_attrs))
            if "name" in named:
                fields.append((named["name"], html.unescape(named.get("value", ""))))
        forms.append(Form(action, "multipart" in attrs.get("enctype", ""), tuple(fields)))
    return forms


def crawl(client: FlaskClient, start: list[str], prefix: str, limit: int = 40) -> list[Form]:
    """Every post form on the pages reachable from `start` under `prefix` (GET only, bounded)."""
    seen: set[str] = set()
    queue = list(start)
    forms: dict[tuple[str, tuple[str, ...]], Form] = {}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        body = response.get_data(as_text=True)
        for form in find_forms(path, body):
            forms.setdefault((form.action, tuple(form.names)), form)
        queue.extend(link for link in LINK.findall(body) if link.startswith(prefix) and link not in seen
                     and "/attachment/" not in link and not link.endswith(".csv"))
    return list(forms.values())


TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from("\x00\u202e\u200f\ufeff\r\n\t<>\"'&%;/\\é€𝄞"), max_size=40),
    st.builds(lambda ch, n: ch * n, st.sampled_from("aé€\x00 "), st.sampled_from([256, 1025, 20_001, 200_000])),
)
RAW = st.one_of(st.binary(max_size=40), st.builds(lambda b: b"\xff\xfe" + b, st.binary(max_size=20)))


@st.composite
def mutated(draw: st.DrawFn, form: Form) -> tuple[list[tuple[str, bytes]], bool]:
    """Field values as bytes (some not UTF-8), fields left out or repeated; and whether to send multipart."""
    values: list[tuple[str, bytes]] = []
    for name, own in form.fields:
        # The token mostly stays valid, or nearly every example would stop at the CSRF check.
        kept = ["own"] * (18 if name.endswith("csrf_token") else 2)
        choice = draw(st.sampled_from([*kept, "text", "raw", "omit", "repeat"]))
        if choice == "omit":
            continue
        if choice == "own":
            values.append((name, own.encode()))
        elif choice == "raw":
            values.append((name, draw(RAW)))
        else:
            text = draw(TEXT).encode("utf-8", "surrogatepass")
            values.append((name, text))
            if choice == "repeat":
                values.append((name, draw(TEXT).encode("utf-8", "surrogatepass")))
    if draw(st.booleans()):
        values.append((draw(st.sampled_from(["extra", "files", *form.names])), draw(RAW)))
    multipart = form.multipart if draw(st.integers(0, 4)) else not form.multipart
    return values, multipart


def encode(values: list[tuple[str, bytes]], multipart: bool) -> tuple[bytes, str]:
    if not multipart:
        body = "&".join(f"{urllib.parse.quote(name)}={urllib.parse.quote_from_bytes(value)}" for name, value in values)
        return body.encode(), "application/x-www-form-urlencoded"
    boundary = "fuzz-boundary-3b9e"
    parts = []
    for name, value in values:
        if name == "files":
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="f\u202e.txt"\r\n'
                         f"Content-Type: application/octet-stream\r\n\r\n".encode() + value + b"\r\n")
        else:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                         + value + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def consistent(app: Flask) -> None:
    """What no request may break: every case keeps a reader, every file its row and every row its file."""
    with db.session_scope(app) as session:
        for case_id in session.scalars(select(Case.id)):
            readers = session.scalar(select(func.count()).select_from(Participant).where(
                Participant.case_id == case_id, Participant.user_id.is_not(None)))
            assert readers, "a case without a handler who can read it"
        keys = set(session.scalars(select(Attachment.storage_key)))
    root = app.config["MELDKLUIS"].storage_path
    stored = {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()
    assert stored == keys, "ciphertext without a row, or a row without its file"


def check(app: Flask, audience: Audience, form: Form, values: list[tuple[str, bytes]], multipart: bool) -> None:
    body, content_type = encode(values, multipart)
    response = audience.client.post(form.action, data=body, content_type=content_type)
    assert response.status_code < 500, (form.action, response.status_code)
    if response.status_code >= 400 and response.mimetype == "text/html":
        text = response.get_data(as_text=True)
        assert any(marker in text for marker in MESSAGE_MARKERS) or "<h1>" in text, (form.action, "no message")
    consistent(app)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not os.environ.get("MELDKLUIS_FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


def fuzz(app: Flask, audience: Audience, expected_actions: tuple[str, ...]) -> None:
    actions = {form.action.split("#")[0].split("/")[-1] for form in audience.forms}  # case forms end in an anchor
    assert set(expected_actions) <= actions, (expected_actions, sorted(actions))

    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        form = data.draw(st.sampled_from(audience.forms))
        values, multipart = data.draw(mutated(form))
        check(app, audience, form, values, multipart)

    run()


@pytest.fixture
def staff(app: Flask, make_member: Callable[..., Member], make_case: Callable[..., Any], login) -> Member:  # type: ignore[no-untyped-def]
    member = make_member("fuzzer", roles=("handler", "compliance", "admin"))
    make_case(files=(("bewijs.txt", b"bewijs"),))
    return member


def test_fuzz_reporter_forms(app: Flask, make_member, make_case) -> None:  # type: ignore[no-untyped-def]
    make_member("anna")
    receipt = make_case()
    # Logged in first: fuzzing the login form may use up the login rate limit.
    mailbox = app.test_client()
    page = mailbox.get("/nl/brievenbus/inloggen").get_data(as_text=True)
    token = html.unescape(page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0])
    assert mailbox.post("/nl/brievenbus/inloggen", data={"csrf_token": token, "receipt_code": receipt.receipt_code,
                                                          "passphrase": receipt.passphrase}).status_code == 303
    anonymous = app.test_client()
    forms = crawl(anonymous, ["/nl/melden", "/nl/brievenbus/inloggen"], "/nl/melden")
    forms += crawl(anonymous, ["/nl/brievenbus/inloggen"], "/nl/brievenbus/inloggen", limit=1)
    fuzz(app, Audience(anonymous, forms), ("misstand", "inloggen"))
    fuzz(app, Audience(mailbox, crawl(mailbox, ["/nl/brievenbus"], "/nl/brievenbus", limit=1)),
         ("bericht", "gesprek", "identiteit"))


def test_fuzz_handler_forms(app: Flask, staff: Member, login, make_case) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    login(client, staff)  # first: fuzzing the login form may use up a login rate limit
    anonymous = app.test_client()
    fuzz(app, Audience(anonymous, crawl(anonymous, ["/nl/handler/login", "/nl/handler/restore"],
                                        "/nl/handler/login", limit=2)), ("login", "restore"))
    forms = crawl(client, ["/nl/handler/", "/nl/handler/account"], "/nl/handler/case/", limit=10)
    fuzz(app, Audience(client, forms), ("acknowledge", "reply", "note", "close", "account", "key-file"))


def test_fuzz_compliance_and_admin_forms(app: Flask, staff: Member, login) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    login(client, staff)
    # The compliance pages and the inbox take their input as query strings: arbitrary ones too.
    @FUZZ
    @given(st.sampled_from(["/nl/compliance/", "/nl/compliance/register", "/nl/compliance/register.csv",
                            "/nl/handler/"]),
           st.lists(st.tuples(st.sampled_from(["year", "month", "channel", "status", "category", "page", "from", "to", "q"]),
                              TEXT), max_size=4))
    def query(path: str, pairs: list[tuple[str, str]]) -> None:
        response = client.get(path, query_string=[(k, v) for k, v in pairs])
        assert response.status_code < 500, (path, pairs)

    query()
    forms = crawl(client, ["/nl/admin/"], "/nl/admin/", limit=30)
    fuzz(app, Audience(client, forms), ("new", "organisation", "misstand", "wbk"))


def test_nul_in_a_staff_form_or_a_query_is_refused_with_a_message(app: Flask, staff: Member, login) -> None:  # type: ignore[no-untyped-def]
    # Found by the fuzzer: PostgreSQL cannot store NUL in a text column, and raised a 500.
    client = app.test_client()
    login(client, staff)
    page = client.get("/nl/admin/channels/misstand").get_data(as_text=True)
    token = html.unescape(page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0])
    response = client.post("/nl/admin/channels/misstand", data={
        "csrf_token": token, "acknowledgement_nl": "Dank u\x00", "acknowledgement_en": "Thank you"})
    assert response.status_code == 200
    assert "kan worden opgeslagen (NUL)" in response.get_data(as_text=True)
    with db.session_scope(app) as session:
        from app.models import Channel

        channel = session.scalar(select(Channel).where(Channel.slug == "misstand"))
        assert channel is not None and "\x00" not in channel.acknowledgement_nl
    login_page = client.post("/nl/handler/login", data={"csrf_token": token, "username": "fuzzer\x00",
                                                        "password": "x", "code": "123456"})
    assert login_page.status_code < 500
    assert client.get("/nl/handler/?status=new%00").status_code == 400
