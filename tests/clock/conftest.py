"""Clock fixtures: cases made directly from the models, a frozen Amsterdam "today", a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import db
from app.models import Case, Channel, User, utcnow
from app.services import accounts, clock, staff_auth


@pytest.fixture
def freeze(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    """Set the server's "today" (Europe/Amsterdam) for the clock."""

    def set_today(day: date) -> None:
        monkeypatch.setattr(clock, "today", lambda now=None: day)

    return set_today


def new_case(session: Session, channel_slug: str, received_on: date, *, category: str = "fraude",
             anonymous: bool = True) -> Case:
    channel = session.scalar(select(Channel).where(Channel.slug == channel_slug))
    assert channel is not None
    case = Case(
        reference=secrets.token_hex(4).upper(), receipt_hash=secrets.token_bytes(32),
        reporter_public_key=secrets.token_bytes(32), reporter_salt=secrets.token_bytes(16),
        reporter_auth_digest=secrets.token_bytes(32), channel_id=channel.id, channel=channel,
        category=category, received_on=received_on, anonymous=anonymous,
    )
    session.add(case)
    session.flush()
    clock.on_received(session, case)
    return case


@pytest.fixture
def make_case(db_session: Session) -> Callable[..., Case]:
    def make(channel_slug: str, received_on: date, **kwargs: object) -> Case:
        return new_case(db_session, channel_slug, received_on, **kwargs)  # type: ignore[arg-type]

    return make


@dataclass
class SmtpServer:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(_free_port())

    class Handler:
        async def handle_DATA(self, smtp: object, session: object, envelope: Any) -> str:  # noqa: N802
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            server.messages.append(message)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def make_staff(app: Flask) -> Callable[..., str]:
    """An activated staff account (no TOTP needed: tests log in by starting a session directly)."""

    def make(username: str, roles: tuple[str, ...], email: str | None = None) -> str:
        with app.test_request_context(), db.session_scope(app) as session:
            user = accounts.create_user(session, username, list(roles), display_name=username.title(), email=email)
            accounts.activate_user(session, user, "a long enough password 123", app.config["MELDKLUIS"].handler_kdf)
            return user.id

    return make


@pytest.fixture
def staff_client(app: Flask, make_staff: Callable[..., str]) -> Callable[..., FlaskClient]:
    """A test client logged in as a new staff member with these roles."""

    def make(*roles: str) -> FlaskClient:
        user_id = make_staff(f"user{secrets.token_hex(3)}", roles)
        with db.session_scope(app) as session:
            user = session.get(User, user_id)
            assert user is not None
            started = staff_auth.start_session(session, user, secrets.token_bytes(32), utcnow())
        client = app.test_client()
        client.set_cookie(staff_auth.COOKIE_NAME, started.cookie_value)
        return client

    return make
