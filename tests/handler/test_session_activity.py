"""A page view extends a staff session, but writes the new time at most once a minute."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from app import db
from app.models import HandlerSession, User, utcnow
from app.services import staff_auth


def test_activity_is_recorded_once_a_minute(app: Flask, make_member) -> None:
    anna = make_member("anna")
    settings = app.config["MELDKLUIS"]
    start = utcnow()
    with db.session_scope(app) as session:
        user = session.get(User, anna.id)
        assert user is not None
        cookie = staff_auth.start_session(session, user, b"\x01" * 32, start).cookie_value

    def seen_after_visit(at) -> object:  # type: ignore[no-untyped-def]
        with db.session_scope(app) as session:
            assert staff_auth.load_staff(session, settings, cookie, at) is not None
        with db.session_scope(app) as session:
            return session.scalars(select(HandlerSession.last_seen_at)).one()

    assert seen_after_visit(start + timedelta(seconds=40)) == start
    later = start + timedelta(seconds=61)
    assert seen_after_visit(later) == later
    idle = timedelta(minutes=settings.handler_idle_minutes)
    assert seen_after_visit(later + idle - timedelta(seconds=1)) == later + idle - timedelta(seconds=1)
