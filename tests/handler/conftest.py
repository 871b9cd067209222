"""Handler-side helpers: activated staff with TOTP, logging in over HTTP, cases made by submit_report."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import db
from app.models import Channel, ChannelRecipient, User
from app.services import accounts
from app.services.submission import Receipt, ReportInput, submit_report

PASSWORD = "a long enough password 123"
TOKEN = re.compile(r'name="([\w-]*csrf_token)" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Member:
    id: str
    username: str
    password: str
    totp_secret: str
    recovery_key: str

    def code(self, at: datetime | None = None) -> str:
        return pyotp.TOTP(self.totp_secret).at(at or datetime.now())


def csrf_tokens(client: FlaskClient, path: str) -> dict[str, str]:
    """Every CSRF token field on a page, by field name (forms with a prefix have their own name)."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return dict(TOKEN.findall(page.get_data(as_text=True)))


def csrf(client: FlaskClient, path: str, name: str = "csrf_token") -> str:
    return csrf_tokens(client, path)[name]


@pytest.fixture
def make_member(app: Flask) -> Callable[..., Member]:
    """An activated staff account with TOTP; `channels` makes a handler a recipient of those channels."""

    def make(username: str, roles: tuple[str, ...] = ("handler",), channels: tuple[str, ...] = ("misstand",),
             email: str | None = None) -> Member:
        with app.test_request_context(), db.session_scope(app) as session:
            user = accounts.create_user(session, username, list(roles), display_name=username.title(), email=email)
            recovery = accounts.activate_user(session, user, PASSWORD, app.config["MELDKLUIS"].handler_kdf)
            user.totp_secret = pyotp.random_base32()
            if "handler" in roles:
                for slug in channels:
                    channel = session.scalar(select(Channel).where(Channel.slug == slug))
                    assert channel is not None
                    if session.get(ChannelRecipient, (channel.id, user.id)) is None:  # a first admin-handler has it
                        session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))
            return Member(user.id, username, PASSWORD, user.totp_secret, recovery)

    return make


@pytest.fixture
def login(app: Flask) -> Callable[[FlaskClient, Member], Any]:
    """Log a member in over HTTP (the replay guard is reset first, so a test may log in twice in 30 s)."""

    def do(client: FlaskClient, member: Member) -> Any:
        with db.session_scope(app) as session:
            user = session.get(User, member.id)
            assert user is not None
            user.totp_last_counter = None
        token = csrf(client, "/nl/handler/login")
        return client.post("/nl/handler/login", data={
            "csrf_token": token, "username": member.username, "password": member.password, "code": member.code()})

    return do


def sample_report(**overrides: Any) -> ReportInput:
    values: dict[str, Any] = {
        "channel_slug": "misstand", "category": "fraude",
        "fields": {"what": "De manager declareert privé-etentjes.", "when": "maart", "where": "inkoop"},
    }
    values.update(overrides)
    return ReportInput(**values)


@pytest.fixture
def make_case(app: Flask) -> Callable[..., Receipt]:
    """A case submitted through the reporter's service, optionally with files."""

    def make(files: tuple[tuple[str, bytes], ...] = (), day: date | None = None, **overrides: Any) -> Receipt:
        with app.test_request_context(), db.session_scope(app) as session:
            return submit_report(session, app.config["MELDKLUIS"], sample_report(**overrides),
                                 [(name, io.BytesIO(data)) for name, data in files], day=day)

    return make
