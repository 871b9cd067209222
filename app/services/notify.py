"""Notifications to staff: queued as "something is waiting for user X", sent at fixed times only.

Queuing stores no case and no time, so neither the database nor the mail log can date a reporter's
action. `flush_notifications()` (run by `meldkluis notify` from a timer) sends the queued ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PendingNotification

REASONS = ("new_case", "new_message", "deadline")


def queue_notification(session: Session, user_ids: Iterable[str], reason: str) -> None:
    """Remember that these users have something waiting (idempotent per user and reason)."""
    if reason not in REASONS:
        raise ValueError(reason)
    for user_id in set(user_ids):
        exists = session.scalar(
            select(PendingNotification).where(
                PendingNotification.user_id == user_id, PendingNotification.reason == reason
            )
        )
        if exists is None:
            session.add(PendingNotification(user_id=user_id, reason=reason))
    session.flush()
