"""The reporter's mailbox: login with receipt code + passphrase, the session, and what they can do inside.

Login answers the same whether the receipt exists or not: one message, and the key derivation runs once
either way (against a dummy salt for an unknown receipt). Nothing a stranger does can delay a real
reporter: there is no global login limit. After repeated failures a mailbox that exists is locked for a
growing period (only someone who knows its receipt code can cause that); unknown codes draw on a separate
global budget, and beyond it they are refused without a derivation. Both live in the limits store
(app/services/limits.py: Redis or worker memory, keyed hashes, expiring), never in the database.
A session keeps the reporter's private key only re-wrapped under a random key that lives in the cookie.
The idle deadline lives in the cookie too (signed), never in the database: a session row carries only the day
it was last used, so an overnight backup cannot date a visit finer than the day (`idle_deadline_passed`).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

import crypto
from app.config import Settings
from app.i18n import DEFAULT_LANGUAGE, msgid, translate
from app.models import Attachment, Case, Message, Participant, ReporterSession, User, new_id, utcnow
from app.models.channel import Channel
from app.services import cases, clock, notify
from app.services.cases import AttachmentInfo, OpenCase, ThreadItem
from app.services.limits import Limits, Schedule
from app.services.session_cookie import parse_session_cookie, session_cookie_value
from app.services.storage import read_attachment
from app.services.upload import UploadedFile, content_disposition

COOKIE_NAME = "mk_mailbox"
# Backoff per mailbox: five free failures, then 1 minute doubling up to 24 hours; forgotten 24 hours after
# the latest failure. A 90-bit passphrase needs no more; the reporter with the right one is never delayed
# by a stranger, who cannot name their mailbox.
BACKOFF = Schedule(free=5, first=timedelta(minutes=1), longest=timedelta(hours=24))
MAILBOX_LIMIT = "mailbox-login"
UNKNOWN_LIMIT = "mailbox-login-unknown"
MEETING_WAYS = ("in_person", "phone")


class LoginFailed(Exception):
    """Receipt code or passphrase wrong, or the mailbox is locked: deliberately one case for the reporter."""


@dataclass(frozen=True)
class LoginResult:
    """A new mailbox session; `cookie_value` is the only copy of the session key."""

    session_id: str
    cookie_value: str = field(repr=False)


@dataclass(frozen=True)
class Mailbox:
    """A logged-in reporter's case, opened for this request; `cookie_value` carries the slid idle deadline."""

    session_id: str
    opened: OpenCase
    cookie_value: str = field(default="", repr=False)

    @property
    def case(self) -> Case:
        return self.opened.case


def _dummy_salt(settings: Settings, receipt_code: str) -> bytes:
    # Same length and cost as a real salt, stable per typed code, so an unknown receipt costs the same.
    return hashlib.blake2b(receipt_code.encode("utf-8", "replace"), key=settings.receipt_lookup_key,
                           digest_size=crypto.MAILBOX_SALT_BYTES, person=b"mk-dummy-salt").digest()


def _find_case(session: Session, settings: Settings, receipt_code: str) -> Case | None:
    try:
        lookup = crypto.receipt_lookup_hash(receipt_code, settings.receipt_lookup_key)
    except ValueError:
        return None
    return session.scalar(select(Case).where(Case.receipt_hash == lookup, Case.purged_on.is_(None)))


def login(session: Session, settings: Settings, receipt_code: str, passphrase: str,
          *, limits: Limits, now: datetime | None = None) -> LoginResult:
    """Open a mailbox session, or raise LoginFailed (one message, whatever went wrong).

    A known receipt: refused without a derivation while its mailbox is locked, else one derivation and a
    failure counted against that mailbox only. An unknown receipt: one derivation against a dummy salt
    while the global budget for unknown codes (`settings.login_unknown_limit`) lasts, none after it.
    """
    now = now or utcnow()
    delete_expired_sessions(session, settings, now)
    passphrase = passphrase[:1024]
    case = _find_case(session, settings, receipt_code)
    if case is None:
        if limits.budget(UNKNOWN_LIMIT, settings.login_unknown_limit):
            crypto.derive_reporter_keys(passphrase, _dummy_salt(settings, receipt_code))
        session.commit()
        raise LoginFailed()
    if limits.locked(MAILBOX_LIMIT, case.id):
        session.commit()
        raise LoginFailed()
    keys = crypto.derive_reporter_keys(passphrase, case.reporter_salt)
    if not crypto.verify_auth_key(keys.auth_key, case.reporter_auth_digest):
        limits.failed(MAILBOX_LIMIT, case.id, BACKOFF)
        session.commit()
        raise LoginFailed()
    limits.succeeded(MAILBOX_LIMIT, case.id)
    session_key = crypto.new_session_key()
    row = ReporterSession(
        id=new_id(),
        case_id=case.id,
        wrapped_private_key=crypto.wrap_private_key(keys.private, session_key, purpose="session"),
        seen_on=now.date(),
    )
    session.add(row)
    session.commit()
    return LoginResult(row.id, mailbox_cookie(settings, row.id, session_key, _deadline(settings, now)))


def _deadline(settings: Settings, now: datetime) -> int:
    return int((now + timedelta(minutes=settings.reporter_idle_minutes)).timestamp())


def idle_deadline_passed(deadline: datetime, now: datetime) -> bool:
    """The one place that decides whether a mailbox session has been idle too long."""
    return now >= deadline


def _cookie_mac(settings: Settings, payload: str) -> str:
    mac = hashlib.blake2b(payload.encode("ascii"), key=settings.mailbox_cookie_key, digest_size=16).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def mailbox_cookie(settings: Settings, session_id: str, session_key: bytes, deadline: int) -> str:
    """"<session id>.<session key>.<idle deadline, Unix seconds>.<MAC>": the deadline is signed, not stored."""
    payload = f"{session_cookie_value(session_id, session_key)}.{deadline}"
    return f"{payload}.{_cookie_mac(settings, payload)}"


def parse_mailbox_cookie(settings: Settings, value: str) -> tuple[str, bytes, datetime] | None:
    """(session id, session key, idle deadline), or None for anything malformed or not signed by us."""
    if not value.isascii():
        return None
    payload, _, mac = value.rpartition(".")
    base, _, deadline = payload.rpartition(".")
    if not deadline.isdigit() or len(deadline) > 12 or not hmac.compare_digest(_cookie_mac(settings, payload), mac):
        return None
    parsed = parse_session_cookie(base)
    if parsed is None:
        return None
    try:
        return parsed[0], parsed[1], datetime.fromtimestamp(int(deadline), UTC)
    except (ValueError, OverflowError, OSError):  # a deadline no clock can hold
        return None


def delete_expired_sessions(session: Session, settings: Settings, now: datetime) -> None:
    """Drop sessions that cannot be alive any more: last used on a day before the idle limit could reach.

    A row knows only the day it was last used, so the cut-off is the day of (now - idle limit): a session
    used on an earlier day has been idle longer than the limit.
    """
    cutoff = (now - timedelta(minutes=settings.reporter_idle_minutes)).date()
    session.execute(delete(ReporterSession).where(ReporterSession.seen_on < cutoff))
    session.flush()


def resume(session: Session, settings: Settings, cookie_value: str, *, now: datetime | None = None) -> Mailbox | None:
    """The mailbox behind a session cookie, with a new cookie value whose idle deadline has slid; None if the
    cookie is absent, forged or idle too long (then the row goes too).

    Writes to the database only when the day of last use changes, and then only the day.
    """
    now = now or utcnow()
    parsed = parse_mailbox_cookie(settings, cookie_value)
    if parsed is None:
        return None
    session_id, session_key, deadline = parsed
    if idle_deadline_passed(deadline, now):
        logout(session, session_id)
        return None
    row = session.get(ReporterSession, session_id)
    if row is None:
        return None
    try:
        private_key = crypto.unwrap_private_key(row.wrapped_private_key, session_key, purpose="session")
        case = session.get(Case, row.case_id)
        if case is None:
            return None
        opened = cases.open_as_reporter(session, case, private_key)
    except (crypto.DecryptionError, ValueError, cases.NotAParticipant):
        return None
    if row.seen_on != now.date():
        row.seen_on = now.date()
        session.commit()
    return Mailbox(row.id, opened, mailbox_cookie(settings, row.id, session_key, _deadline(settings, now)))


def logout(session: Session, session_id: str) -> None:
    session.execute(delete(ReporterSession).where(ReporterSession.id == session_id))
    session.commit()


@dataclass(frozen=True)
class MailboxView:
    """Everything the reporter may reread, decrypted for this request."""

    reference: str
    channel_name: str
    category_name: str
    status: str
    received_on: date
    next_date: date | None
    report: dict[str, str]
    identity: str | None
    report_files: list[AttachmentInfo]
    thread: list[ThreadItem]


def read_mailbox(session: Session, mailbox: Mailbox, lang: str) -> MailboxView:
    """Decrypt the report and thread; handler messages now count as read by the reporter."""
    opened = mailbox.opened
    case = opened.case
    files = cases.attachment_infos(session, opened)
    thread = cases.read_thread(session, opened, files)
    for message in session.scalars(
        select(Message).where(Message.case_id == case.id, Message.author_kind == "handler",
                              Message.read_by_reporter.is_(False))
    ):
        message.read_by_reporter = True
    view = MailboxView(
        reference=case.reference,
        channel_name=case.channel.name(lang),
        category_name=case.channel.category_name(case.category, lang),
        status=case.status,
        received_on=case.received_on,
        next_date=clock.next_promised_date(session, case),
        report=cases.read_report(opened),
        identity=cases.read_identity(opened),
        report_files=files.get(None, []),
        thread=[_in_language(item, case.channel, lang) for item in thread],
    )
    session.commit()
    return view


def _in_language(item: ThreadItem, channel: Channel, lang: str) -> ThreadItem:
    """Standard texts in the page's language: the reporter's language is never stored, so neither the handler
    nor the system could write in it. A handler's acknowledgement that is the channel's standard text (Dutch or
    English, unchanged) is shown as that text in `lang`, one the handler changed as written; the system's
    sentence that opens a meeting request or an identity message (stored in Dutch) in `lang`."""
    if item.kind == "acknowledgement":
        standard = {channel.acknowledgement_nl.strip(), channel.acknowledgement_en.strip()} - {""}
        if item.body.strip() in standard:
            return dataclasses.replace(item, body=channel.acknowledgement(lang))
    elif item.author_kind == "reporter":
        for sentence in REPORTER_SENTENCES:
            stored = translate(sentence, DEFAULT_LANGUAGE)
            if item.body.startswith(stored):
                return dataclasses.replace(item, body=translate(sentence, lang) + item.body[len(stored):])
    return item


class MailboxError(ValueError):
    """A reporter action cannot be accepted; `errors` maps a form field to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("mailbox action not accepted")
        self.errors = errors


def _handler_ids(session: Session, case: Case) -> list[str]:
    return [uid for uid in session.scalars(
        select(Participant.user_id).where(Participant.case_id == case.id, Participant.user_id.is_not(None))
    ) if uid is not None]


def _finish(session: Session, mailbox: Mailbox, files: list[UploadedFile]) -> None:
    notify.queue_notification(session, _handler_ids(session, mailbox.case), "new_message")
    try:
        session.commit()
    except BaseException:
        session.rollback()
        for uploaded in files:
            uploaded.writer.abort()
        raise
    for uploaded in files:
        uploaded.writer.committed()
        uploaded.writer.settle()  # only now: see storage.settle_times


def post_reply(session: Session, settings: Settings, mailbox: Mailbox, body: str,
               files: list[UploadedFile], *, day: date | None = None) -> None:
    """Add the reporter's message with its (already encrypted) files; commits once."""
    day = day or clock.today()
    body = body.strip()
    try:
        errors: dict[str, list[str]] = {}
        if not body and not files:
            errors["body"] = [str(_l("Write a message or add a file."))]
        if len(body) > settings.max_text_chars:
            errors["body"] = [str(_l("This text is too long: at most %(n)s characters, you wrote %(m)s.",
                                     n=settings.max_text_chars, m=len(body)))]
        if len(files) > settings.max_files:
            errors["files"] = [str(_l("You can add at most %(n)s files.", n=settings.max_files))]
        if errors:
            raise MailboxError(errors)
        message = cases.add_message(session, mailbox.opened, author_kind="reporter", body=body, day=day)
        for uploaded in files:
            uploaded.writer.finish(session, name=uploaded.name, author_kind="reporter", day=day, message_id=message.id)
    except BaseException:
        session.rollback()
        for uploaded in files:
            uploaded.writer.abort()
        raise
    _finish(session, mailbox, files)


# Sentences the system writes into the thread for the reporter: stored in Dutch whatever the page's language
# (which is never stored, and which a Dutch handler may not read); the mailbox shows them in the page's language.
MEETING_TEXTS = {
    "in_person": msgid("I would like to meet in person."),
    "phone": msgid("I would like to talk by phone."),
}


def request_meeting(session: Session, settings: Settings, mailbox: Mailbox, way: str, note: str,
                    *, day: date | None = None) -> None:
    """Ask for a meeting (Wbk art. 2): a message of kind meeting_request and the meeting milestone."""
    day = day or clock.today()
    note = note.strip()
    if way not in MEETING_WAYS:
        raise MailboxError({"way": [str(_l("Choose in person or by phone."))]})
    if len(note) > settings.max_text_chars:
        raise MailboxError({"note": [str(_l("This text is too long: at most %(n)s characters, you wrote %(m)s.",
                                            n=settings.max_text_chars, m=len(note)))]})
    body = translate(MEETING_TEXTS[way], DEFAULT_LANGUAGE) + (f"\n\n{note}" if note else "")
    cases.add_message(session, mailbox.opened, author_kind="reporter", body=body, day=day, kind="meeting_request")
    # A repeated request while one is pending keeps the first term (clock.on_meeting_requested).
    clock.on_meeting_requested(session, mailbox.case, day)
    _finish(session, mailbox, [])


IDENTITY_DISCLOSED_TEXT = msgid("I have chosen to share who I am. You find it with the report, marked as identity.")
REPORTER_SENTENCES = (*MEETING_TEXTS.values(), IDENTITY_DISCLOSED_TEXT)


def check_identity(settings: Settings, identity: str) -> str:
    """The identity text as it would be sealed, or MailboxError (empty, too long): checked before the
    confirmation page as well as when it is shared."""
    identity = identity.strip()
    if not identity:
        raise MailboxError({"identity": [str(_l("Write your name and how we can reach you."))]})
    if len(identity) > settings.max_text_chars:
        raise MailboxError({"identity": [str(_l("This text is too long: at most %(n)s characters, you wrote %(m)s.",
                                                n=settings.max_text_chars, m=len(identity)))]})
    return identity


def case_readers(session: Session, mailbox: Mailbox) -> list[str]:
    """The names of the handlers who hold the case's key: who would read an identity shared now."""
    name = func.coalesce(User.display_name, User.username)
    return list(session.scalars(
        select(name).join(Participant, Participant.user_id == User.id)
        .where(Participant.case_id == mailbox.case.id).order_by(name)))


def disclose_identity(session: Session, settings: Settings, mailbox: Mailbox, identity: str,
                      *, day: date | None = None) -> None:
    """Seal the identity the reporter chose to give; the thread only says that it happened."""
    day = day or clock.today()
    identity = check_identity(settings, identity)
    cases.set_identity(mailbox.opened, identity)
    cases.add_message(session, mailbox.opened, author_kind="reporter",
                      body=translate(IDENTITY_DISCLOSED_TEXT, DEFAULT_LANGUAGE), day=day,
                      kind="identity_disclosed")
    _finish(session, mailbox, [])


@dataclass(frozen=True)
class Download:
    content_disposition: str
    chunks: Iterator[bytes]
    size: int


def download(session: Session, settings: Settings, mailbox: Mailbox, attachment_id: str) -> Download | None:
    """A file of the reporter's own case, decrypted as it streams; None if it is not theirs."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not hmac.compare_digest(attachment.case_id, mailbox.case.id):
        return None
    stored = read_attachment(settings.storage_path, mailbox.opened, attachment)
    return Download(content_disposition(stored.name), stored.chunks, stored.size)
