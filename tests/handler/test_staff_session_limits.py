"""Staff sessions end when they should: at a password change, after 12 hours, nightly when idle; a TOTP code
opens one session only, even when two logins race with it."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pyotp
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import db
from app.cli import main
from app.models import HandlerSession, User, utcnow
from app.services import staff_auth

from .conftest import PASSWORD, csrf


def session_count(app: Flask) -> int:
    with db.session_scope(app) as session:
        return int(session.scalar(select(func.count()).select_from(HandlerSession)) or 0)


def test_one_code_opens_one_session_when_two_logins_race(app: Flask, make_member, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    member = make_member("anna")
    settings = app.config["MELDKLUIS"]
    now = utcnow()
    code = pyotp.TOTP(member.totp_secret).at(now)
    # Both logins check the code before either records it: the window a read-then-write leaves open.
    both_checked = threading.Barrier(2, timeout=5)
    real_match = staff_auth.match_totp

    def match_together(*args: object) -> int | None:
        counter = real_match(*args)  # type: ignore[arg-type]
        with contextlib.suppress(threading.BrokenBarrierError):  # SQLite may serialise the two earlier
            both_checked.wait()
        return counter

    monkeypatch.setattr(staff_auth, "match_totp", match_together)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            with app.test_request_context(), db.session_scope(app) as session:
                staff_auth.login(session, settings, "anna", PASSWORD, code, now)
            outcomes.append("in")
        except staff_auth.LoginFailed:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["in", "refused"]
    assert session_count(app) == 1


def test_password_change_ends_the_other_sessions(app: Flask, client: FlaskClient, make_member, login) -> None:  # type: ignore[no-untyped-def]
    member = make_member("bert")
    elsewhere = app.test_client()
    login(elsewhere, member)
    login(client, member)
    assert session_count(app) == 2
    new_password = "Kwispelende-zeehond-op-de-Waddendijk-1953"
    response = client.post("/nl/handler/account", data={
        "pw-csrf_token": csrf(client, "/nl/handler/account", "pw-csrf_token"), "pw-current": PASSWORD,
        "pw-password": new_password, "pw-confirm": new_password})
    assert response.status_code == 302
    assert session_count(app) == 1
    assert client.get("/nl/handler/").status_code == 200  # this session goes on
    assert elsewhere.get("/nl/handler/").status_code == 302  # the other one is gone


def test_session_has_an_absolute_lifetime(app: Flask, make_member) -> None:  # type: ignore[no-untyped-def]
    member = make_member("cor")
    settings = app.config["MELDKLUIS"]
    assert settings.handler_session_max_hours == 12
    start = utcnow()
    with db.session_scope(app) as session:
        user = session.get(User, member.id)
        assert user is not None
        cookie = staff_auth.start_session(session, user, b"\x01" * 32, start).cookie_value
    # Active every 20 minutes, so never idle: still, after 12 hours the session ends.
    moment = start
    while moment < start + timedelta(hours=12) - timedelta(minutes=20):
        moment += timedelta(minutes=20)
        with db.session_scope(app) as session:
            assert staff_auth.load_staff(session, settings, cookie, moment) is not None
    with db.session_scope(app) as session:
        assert staff_auth.load_staff(session, settings, cookie, start + timedelta(hours=12, minutes=1)) is None
    assert session_count(app) == 0


def test_gc_removes_idle_and_expired_session_rows(app: Flask, make_member, cli: CliRunner) -> None:  # type: ignore[no-untyped-def]
    member = make_member("dirk")
    settings = app.config["MELDKLUIS"]
    now = utcnow()
    with db.session_scope(app) as session:
        user = session.get(User, member.id)
        assert user is not None
        staff_auth.start_session(session, user, b"\x01" * 32, now)
        idle = staff_auth.start_session(session, user, b"\x01" * 32, now)
        old = staff_auth.start_session(session, user, b"\x01" * 32, now)
        idle_id, old_id = idle.cookie_value.split(".")[0], old.cookie_value.split(".")[0]
    with db.session_scope(app) as session:
        session.get(HandlerSession, idle_id).last_seen_at = now - timedelta(minutes=settings.handler_idle_minutes + 1)  # type: ignore[union-attr]
        session.get(HandlerSession, old_id).created_at = now - timedelta(hours=13)  # type: ignore[union-attr]
    result = cli.invoke(main, ["gc"])
    assert result.exit_code == 0, result.output
    assert "2 expired staff session(s)" in result.output
    assert session_count(app) == 1
