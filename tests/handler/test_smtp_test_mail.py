"""The admin's "send a test mail" button: a fixed, content-free mail to the admin's own address."""

from __future__ import annotations

import email
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import db
from app.models import AuditEvent, User
from app.services import accounts, administration
from app.services.staff_auth import Staff

from .conftest import Member, csrf  # noqa: TID252
from .test_notify_smtp import smtp_server  # noqa: F401  (the fixture)


def test_test_mail_reaches_the_admin(app: Flask, smtp_server, make_member: Callable[..., Member]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    inbox, port = smtp_server
    admin = make_member("adam", roles=("admin",), email="adam@example.org")
    settings = replace(app.config["MELDKLUIS"], smtp_host="127.0.0.1", smtp_port=port)
    with app.test_request_context("/nl/"), db.session_scope(app) as session:
        user = session.get(User, admin.id)
        assert user is not None
        assert administration.send_test_mail(session, settings, Staff(user, "s", b"")) == "adam@example.org"
    (recipients, raw), = inbox.messages
    assert recipients == ["adam@example.org"]
    assert "testbericht" in email.message_from_bytes(raw)["Subject"]
    with db.session_scope(app) as session:
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.user_id == admin.id)) == "smtp_test_sent"
    closed = replace(settings, smtp_port=1)  # nothing listens there
    with app.test_request_context("/nl/"), db.session_scope(app) as session:
        user = session.get(User, admin.id)
        assert user is not None
        with pytest.raises(accounts.AccountError, match="kon niet worden verstuurd"):
            administration.send_test_mail(session, closed, Staff(user, "s", b""))


def test_button_without_a_mail_server_says_so(app: Flask, make_member: Callable[..., Member],
                                             login: Callable[..., Any]) -> None:
    client = app.test_client()
    login(client, make_member("adam", roles=("admin",), email="adam@example.org"))
    response = client.post("/nl/admin/smtp-test", data={"csrf_token": csrf(client, "/nl/admin/")})
    assert response.status_code == 400
    assert "Er is geen mailserver ingesteld" in response.get_data(as_text=True)
    assert client.post("/nl/admin/smtp-test", data={}).status_code == 400  # no CSRF token
