"""Queuing a notice is safe when two reports for the same handler are being stored at the same moment."""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import db
from app.models import PendingNotification
from app.services import notify


def test_two_transactions_queue_the_same_notice(app: Flask, make_member) -> None:
    """The second transaction saw no pending notice, then the first committed one: no IntegrityError."""
    anna = make_member("anna")
    engine = db.engine_of(app)
    with Session(engine) as first, Session(engine) as second:
        assert second.scalar(select(func.count()).select_from(PendingNotification)) == 0
        notify.queue_notification(first, [anna.id], "new_case")
        # The second insert waits for the first transaction's lock; commit the first meanwhile.
        committer = threading.Timer(0.3, first.commit)
        committer.start()
        notify.queue_notification(second, [anna.id, anna.id], "new_case")
        second.commit()
        committer.join()
    with db.session_scope(app) as session:
        rows = session.execute(select(PendingNotification.user_id, PendingNotification.reason)).all()
    assert rows == [(anna.id, "new_case")]
