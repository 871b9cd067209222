"""The reporter's mailbox: login with receipt code + passphrase, the session, and what they can do inside.

Login looks and costs the same whether the receipt exists or not: the KDF runs exactly once either way
(against a dummy salt for an unknown receipt) and the error is one message. After repeated failures a
mailbox is locked for a growing period; a global rate limit on the view sits on top (never per IP).
Failures are counted in memory only (`MailboxThrottle`).
A session keeps the reporter's private key only re-wrapped under a random key that lives in the cookie.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

import crypto
from app.config import Settings
from app.i18n import DEFAULT_LANGUAGE, msgid, translate
from app.models import Attachment, Case, Message, Participant, ReporterSession, User, new_id, today, utcnow
from app.models.channel import Channel
from app.services import cases, clock, notify
from app.services.cases import AttachmentInfo, OpenCase, ThreadItem
from app.services.session_cookie import parse_session_cookie, session_cookie_value
from app.services.storage import read_attachment
from app.services.submission import derive_reporter_keys
from app.services.upload import UploadedFile, content_disposition

COOKIE_NAME = "mk_mailbox"
THROTTLE_EXTENSION = "meldkluis.mailbox_throttle"
FREE_ATTEMPTS = 5
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=24)
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
    """A logged-in reporter's case, opened for this request."""

    session_id: str
    opened: OpenCase

    @property
    def case(self) -> Case:
        return self.opened.case


class MailboxThrottle:
    """Per-mailbox backoff after failed logins, held in this worker's memory and never in the database.

    The time of a failed login could date a reporter's visit, so it is not stored. Each worker process
    counts on its own and a restart forgets; the global rate limit on the login view still caps guessing
    (and a 90-bit passphrase is out of reach either way).
    """

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, datetime, datetime | None]] = {}  # case id: (count, last, locked until)
        self._lock = threading.Lock()

    def locked(self, case_id: str, now: datetime) -> bool:
        with self._lock:
            entry = self._failures.get(case_id)
            return entry is not None and entry[2] is not None and entry[2] > now

    def failed(self, case_id: str, now: datetime) -> None:
        with self._lock:
            # Forget mailboxes whose last failure is older than the longest lock.
            for stale in [key for key, (_, last, _) in self._failures.items() if now - last > LONGEST_LOCK]:
                del self._failures[stale]
            count = self._failures.get(case_id, (0, now, None))[0] + 1
            period = lock_period(count)
            self._failures[case_id] = (count, now, now + period if period else None)

    def succeeded(self, case_id: str) -> None:
        with self._lock:
            self._failures.pop(case_id, None)


def lock_period(failures: int) -> timedelta | None:
    """How long a mailbox stays locked after `failures` consecutive failures (doubling, capped)."""
    if failures < FREE_ATTEMPTS:
        return None
    period: timedelta = FIRST_LOCK * (2 ** min(failures - FREE_ATTEMPTS, 20))
    return min(period, LONGEST_LOCK)


def _dummy_salt(settings: Settings, receipt_code: str) -> bytes:
    # Same length and cost as a real salt, stable per typed code, so an unknown receipt costs the same.
    return hashlib.blake2b(receipt_code.encode("utf-8", "replace"), key=settings.receipt_lookup_key,
                           digest_size=16, person=b"mk-dummy-salt").digest()


def _find_case(session: Session, settings: Settings, receipt_code: str) -> Case | None:
    try:
        lookup = crypto.receipt_lookup_hash(receipt_code, settings.receipt_lookup_key)
    except ValueError:
        return None
    return session.scalar(select(Case).where(Case.receipt_hash == lookup, Case.purged_on.is_(None)))


def login(session: Session, settings: Settings, receipt_code: str, passphrase: str,
          *, throttle: MailboxThrottle, now: datetime | None = None) -> LoginResult:
    """Open a mailbox session, or raise LoginFailed (one message, one KDF run, whatever went wrong)."""
    now = now or utcnow()
    delete_expired_sessions(session, now)
    case = _find_case(session, settings, receipt_code)
    salt = case.reporter_salt if case is not None else _dummy_salt(settings, receipt_code)
    keys = derive_reporter_keys(passphrase[:1024], salt, settings)
    if case is None:
        session.commit()
        raise LoginFailed()
    locked = throttle.locked(case.id, now)
    if locked or not crypto.verify_auth_key(keys.auth_key, case.reporter_auth_digest):
        if not locked:
            throttle.failed(case.id, now)
        session.commit()
        raise LoginFailed()
    throttle.succeeded(case.id)
    session_key = crypto.new_session_key()
    row = ReporterSession(
        id=new_id(),
        case_id=case.id,
        wrapped_private_key=crypto.wrap_private_key(keys.private, session_key, purpose="session"),
        expires_at=now + timedelta(minutes=settings.reporter_idle_minutes),
    )
    session.add(row)
    session.commit()
    return LoginResult(row.id, session_cookie_value(row.id, session_key))


def delete_expired_sessions(session: Session, now: datetime) -> None:
    """Drop idle sessions: their expiry time is the only trace of a reporter's visit, kept no longer than needed."""
    session.execute(delete(ReporterSession).where(ReporterSession.expires_at <= now))
    session.flush()


def resume(session: Session, settings: Settings, cookie_value: str, *, now: datetime | None = None) -> Mailbox | None:
    """The mailbox behind a session cookie, sliding its idle deadline; None if absent, expired or forged."""
    now = now or utcnow()
    parsed = parse_session_cookie(cookie_value)
    if parsed is None:
        return None
    session_id, session_key = parsed
    delete_expired_sessions(session, now)
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
    row.expires_at = now + timedelta(minutes=settings.reporter_idle_minutes)
    session.commit()
    return Mailbox(row.id, opened)


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
    thread = cases.read_thread(session, opened)
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


def post_reply(session: Session, settings: Settings, mailbox: Mailbox, body: str,
               files: list[UploadedFile], *, day: date | None = None) -> None:
    """Add the reporter's message with its (already encrypted) files; commits once."""
    day = day or today()
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
    day = day or today()
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
    day = day or today()
    identity = check_identity(settings, identity)
    cases.set_identity(mailbox.opened, identity)
    cases.add_message(session, mailbox.opened, author_kind="reporter", body=translate(IDENTITY_DISCLOSED_TEXT, DEFAULT_LANGUAGE), day=day,
                      kind="identity_disclosed")
    _finish(session, mailbox, [])


@dataclass(frozen=True)
class Download:
    content_disposition: str
    chunks: Iterator[bytes]


def download(session: Session, settings: Settings, mailbox: Mailbox, attachment_id: str) -> Download | None:
    """A file of the reporter's own case, decrypted as it streams; None if it is not theirs."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not hmac.compare_digest(attachment.case_id, mailbox.case.id):
        return None
    name, chunks = read_attachment(settings.storage_path, mailbox.opened, attachment)
    # Start decrypting now, inside the request: a damaged file fails before any header is sent, and the
    # stream no longer needs the database session once the response is being written.
    first = next(chunks, b"")
    return Download(content_disposition(name), itertools.chain([first], chunks))
