"""Notifications to staff: queued as "something is waiting for user X", sent at fixed times only.

Queuing stores no case and no time, so neither the database nor the mail log can date a reporter's
action. `flush_notifications()` (run by `meldkluis notify` from a timer) sends the queued ones.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import PendingNotification, User

REASONS = ("new_case", "new_message", "deadline")


def queue_notification(session: Session, user_ids: Iterable[str], reason: str) -> None:
    """Remember that these users have something waiting (idempotent per user and reason).

    One INSERT ... ON CONFLICT DO NOTHING, not a look-up then an insert: two reports arriving at once
    for the same handler must not make the second reporter's submission fail on the primary key.
    """
    if reason not in REASONS:
        raise ValueError(reason)
    rows = [{"user_id": user_id, "reason": reason} for user_id in sorted(set(user_ids))]
    if not rows:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(PendingNotification).values(rows).on_conflict_do_nothing())


# --- sending (run by `meldkluis notify` at settings.notify_times) ---------------------------------------

SUBJECT = "Er wacht iets op u in Meldkluis / There is something waiting for you in Meldkluis"


def send_mail(settings: Settings, to: str, subject: str, body: str, *, when: datetime | None = None) -> None:
    """Send one plain-text e-mail through the configured SMTP server (raises OSError/SMTPException)."""
    message = EmailMessage()
    if when is not None:
        message["Date"] = format_datetime(when)
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def notice_body(settings: Settings) -> str:
    """The whole notice: that something waits, and where to log in. No case, channel, category or reason."""
    login = f"{settings.base_url}/nl/handler/login"
    return (
        "Er wacht iets op u in Meldkluis. Log in om te zien wat:\n"
        f"{login}\n\n"
        "There is something waiting for you in Meldkluis. Log in to see what:\n"
        f"{settings.base_url}/en/handler/login\n"
    )


def flush_notifications(session: Session, settings: Settings, now: datetime) -> int:
    """Send one content-free e-mail per user with something pending, then forget what was pending.

    Off (returns 0, keeps the queue) when no SMTP server is configured. A user without an e-mail
    address, or no longer active, is dropped from the queue; a failed send keeps that user's rows for
    the next run. `now` only dates the mail, which leaves at a fixed time anyway. Returns mails sent.
    """
    if not settings.smtp_host:
        return 0
    user_ids = sorted(set(session.scalars(select(PendingNotification.user_id))))
    sent = 0
    for user_id in user_ids:
        user = session.get(User, user_id)
        if user is not None and user.active and user.email:
            try:
                send_mail(settings, user.email, SUBJECT, notice_body(settings), when=now)
            except (OSError, smtplib.SMTPException):
                continue
            sent += 1
        session.execute(delete(PendingNotification).where(PendingNotification.user_id == user_id))
        session.commit()
    return sent
