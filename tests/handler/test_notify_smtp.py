"""Notices go out through a real SMTP server (aiosmtpd), one per user, and carry no case detail at all."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, select

from app import db
from app.cli import main
from app.models import Case, PendingNotification, utcnow
from app.services import notify


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_one_content_free_mail_per_user(app: Flask, smtp_server, make_member, make_case) -> None:
    inbox, port = smtp_server
    anna = make_member("anna", email="anna@example.org")
    make_member("bert", email="bert@example.org")
    receipt = make_case(fields={"what": "Fraude bij inkoop"})
    make_case(fields={"what": "Nog een melding"})
    with db.session_scope(app) as session:
        notify.queue_notification(session, [anna.id], "deadline")
        case = session.get(Case, receipt.case_id)
        assert case is not None
        forbidden = [receipt.reference, receipt.case_id, "fraude", "Fraude", case.channel.slug, case.channel.name_nl,
                     "inkoop"]
    settings = replace(app.config["MELDKLUIS"], smtp_host="127.0.0.1", smtp_port=port)
    with db.session_scope(app) as session:
        assert notify.flush_notifications(session, settings, utcnow()) == 2
    assert sorted(r[0] for r, _ in inbox.messages) == ["anna@example.org", "bert@example.org"]
    for _, raw in inbox.messages:
        text = raw.decode()
        for word in forbidden:
            assert word not in text
        message = email.message_from_bytes(raw)
        assert "Meldkluis" in message["Subject"]
        assert "/nl/handler/login" in message.get_payload(decode=True).decode()
    with db.session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(PendingNotification)) == 0
        assert notify.flush_notifications(session, settings, utcnow()) == 0


def test_off_without_smtp_and_cli_sends(app: Flask, smtp_server, make_member, make_case, cli,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, port = smtp_server
    make_member("anna", email="anna@example.org")
    make_case()
    with db.session_scope(app) as session:
        assert notify.flush_notifications(session, app.config["MELDKLUIS"], utcnow()) == 0
        assert session.scalar(select(func.count()).select_from(PendingNotification)) == 1
    monkeypatch.setenv("MELDKLUIS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MELDKLUIS_SMTP_PORT", str(port))
    result = cli.invoke(main, ["notify"])
    assert result.exit_code == 0, result.output
    assert "1 notice" in result.output and len(inbox.messages) == 1
