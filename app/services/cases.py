"""Opening a case and reading or adding its sealed content.

An `OpenCase` holds the case key for one request only: it is made from a participant's private key
(handler or reporter) and dropped with the request. Every text is sealed under the case key with its
place (case id, kind, row id) and its meaning (author kind, message kind, thread position, the message a
file belongs to: `crypto.Meta`) as associated data, so no ciphertext can be moved to another row and no row
can be relabelled or reordered in the database without opening failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import crypto
from app.models import Attachment, Case, Message, Note, Participant, User, new_id, utcnow

# Messages per page of a case's thread on the handler's case page (a case can hold thousands).
THREAD_PAGE = 25

# The kinds of sealed text, each bound into its ciphertext's associated data.
REPORT = "report"
IDENTITY = "identity"
MESSAGE = "message"
NOTE = "note"
ATTACHMENT_NAME = "attachment-name"
ATTACHMENT_CLEANING = "attachment-cleaning"  # what app/services/scrub.py removed from the file

# What the reporter wrote outside the thread (report, identity) and what only handlers write (notes).
REPORTER_META = crypto.Meta(author_kind="reporter")
NOTE_META = crypto.Meta(author_kind="handler")


def message_meta(message: Message) -> crypto.Meta:
    """The metadata of a message that its ciphertext is bound to: who wrote it, its kind, its place."""
    return crypto.Meta(author_kind=message.author_kind, message_kind=message.kind, position=message.counter)


def attachment_meta(attachment: Attachment) -> crypto.Meta:
    """The metadata of an attachment that its name and file key are bound to: author and message."""
    return crypto.Meta(author_kind=attachment.author_kind, message_id=attachment.message_id or "")


@dataclass(frozen=True)
class OpenCase:
    """A case with its key, for the duration of one request."""

    case: Case
    key: bytes = field(repr=False)
    participant: Participant | None = None  # whose sealed case key opened it (None: a case being made)

    def seal(self, kind: str, row_id: str, text: str, meta: crypto.Meta) -> bytes:
        return crypto.seal_text(self.key, text, case_id=self.case.id, kind=kind, row_id=row_id, meta=meta)

    def open(self, kind: str, row_id: str, sealed: bytes, meta: crypto.Meta) -> str:
        return crypto.open_text(self.key, sealed, case_id=self.case.id, kind=kind, row_id=row_id, meta=meta)


class NotAParticipant(LookupError):
    """The user holds no sealed case key for this case (never shared, deselected, or purged)."""


def open_with(case: Case, participant: Participant | None, private_key: bytes) -> OpenCase:
    """The case opened with the case key sealed to `participant` (read by the caller with the case)."""
    if participant is None or participant.case_id != case.id:
        raise NotAParticipant(case.id)
    return OpenCase(case, crypto.open_case_key(participant.sealed_case_key, private_key, case.id), participant)


def open_as_handler(session: Session, case: Case, user_id: str, private_key: bytes) -> OpenCase:
    participant = session.scalar(
        select(Participant).where(Participant.case_id == case.id, Participant.user_id == user_id)
    )
    return open_with(case, participant, private_key)


def open_as_reporter(session: Session, case: Case, private_key: bytes) -> OpenCase:
    participant = session.scalar(
        select(Participant).where(Participant.case_id == case.id, Participant.user_id.is_(None))
    )
    return open_with(case, participant, private_key)


def add_participant(session: Session, opened: OpenCase, user: User) -> Participant:
    """Seal the case key to a handler's public key (sharing a case; no content is re-encrypted)."""
    if user.public_key is None:
        raise ValueError("account is not activated")
    existing = session.scalar(
        select(Participant).where(Participant.case_id == opened.case.id, Participant.user_id == user.id)
    )
    if existing is not None:
        return existing
    participant = Participant(
        case_id=opened.case.id,
        user_id=user.id,
        sealed_case_key=crypto.seal_case_key(opened.key, user.public_key, opened.case.id),
    )
    session.add(participant)
    session.flush()
    return participant


def set_report(opened: OpenCase, fields: dict[str, str]) -> None:
    """Seal the reporter's answers as one JSON document (one padded ciphertext leaks less than many)."""
    opened.case.report_sealed = opened.seal(REPORT, opened.case.id, json.dumps(fields, ensure_ascii=False),
                                             REPORTER_META)


def read_report(opened: OpenCase) -> dict[str, str]:
    if opened.case.report_sealed is None:
        return {}
    loaded: dict[str, str] = json.loads(opened.open(REPORT, opened.case.id, opened.case.report_sealed,
                                                        REPORTER_META))
    return loaded


def set_identity(opened: OpenCase, identity: str) -> None:
    opened.case.identity_sealed = opened.seal(IDENTITY, opened.case.id, identity, REPORTER_META)
    opened.case.anonymous = False


def read_identity(opened: OpenCase) -> str | None:
    if opened.case.identity_sealed is None:
        return None
    return opened.open(IDENTITY, opened.case.id, opened.case.identity_sealed, REPORTER_META)


def add_message(
    session: Session,
    opened: OpenCase,
    *,
    author_kind: str,
    body: str,
    day: date,
    kind: str = "message",
    author_user_id: str | None = None,
) -> Message:
    """Append a sealed message to the case's thread (ordered by a per-case counter, not by time)."""
    opened.case.message_counter += 1
    message_id = new_id()
    message = Message(
        id=message_id,
        case_id=opened.case.id,
        counter=opened.case.message_counter,
        author_kind=author_kind,
        author_user_id=author_user_id,
        kind=kind,
        created_on=day,
        read_by_reporter=author_kind == "reporter",
    )
    message.body_sealed = opened.seal(MESSAGE, message_id, body, message_meta(message))
    session.add(message)
    session.flush()
    return message


def add_note(session: Session, opened: OpenCase, author_user_id: str, body: str) -> Note:
    note_id = new_id()
    note = Note(
        id=note_id, case_id=opened.case.id, author_user_id=author_user_id,
        body_sealed=opened.seal(NOTE, note_id, body, NOTE_META), created_at=utcnow(),
    )
    session.add(note)
    session.flush()
    return note


@dataclass(frozen=True)
class AttachmentInfo:
    id: str
    name: str
    size: int
    cleaning: str | None = None  # scrub.py's sealed note on the file, opened (scrub.describe() words it)


@dataclass(frozen=True)
class ThreadItem:
    id: str
    counter: int
    author_kind: str
    author_user_id: str | None
    kind: str
    body: str
    day: date
    attachments: list[AttachmentInfo]


def attachment_infos(session: Session, opened: OpenCase,
                     message_ids: list[str] | None = None) -> dict[str | None, list[AttachmentInfo]]:
    """Decrypted attachment names and sizes grouped by message id (None: attached to the report itself).

    The size exists only inside the sealed file key, so it is known after decryption and nowhere else.
    `message_ids`: only the report's files and those of these messages (one page of the thread).
    """
    grouped: dict[str | None, list[AttachmentInfo]] = {}
    query = select(Attachment).where(Attachment.case_id == opened.case.id)
    if message_ids is not None:
        query = query.where(or_(Attachment.message_id.is_(None), Attachment.message_id.in_(message_ids)))
    for row in session.scalars(query.order_by(Attachment.created_on, Attachment.id)):
        meta = attachment_meta(row)
        file_key = crypto.open_file_key(opened.key, row.file_key_sealed, case_id=opened.case.id, row_id=row.id,
                                        meta=meta)
        cleaning = opened.open(ATTACHMENT_CLEANING, row.id, row.cleaning_sealed, meta) if row.cleaning_sealed else None
        info = AttachmentInfo(row.id, opened.open(ATTACHMENT_NAME, row.id, row.name_sealed, meta), file_key.size,
                              cleaning)
        grouped.setdefault(row.message_id, []).append(info)
    return grouped


def read_thread(session: Session, opened: OpenCase,
                attachments: dict[str | None, list[AttachmentInfo]] | None = None) -> list[ThreadItem]:
    """The decrypted thread, oldest first; `attachments`: `attachment_infos()` if the caller has it already
    (a page that also lists the report's files decrypts each file name once)."""
    if attachments is None:
        attachments = attachment_infos(session, opened)
    messages = session.scalars(
        select(Message).where(Message.case_id == opened.case.id).order_by(Message.counter)
    )
    return [_thread_item(opened, m, attachments) for m in messages]


def _thread_item(opened: OpenCase, m: Message, attachments: dict[str | None, list[AttachmentInfo]]) -> ThreadItem:
    return ThreadItem(
        id=m.id, counter=m.counter, author_kind=m.author_kind, author_user_id=m.author_user_id, kind=m.kind,
        body=opened.open(MESSAGE, m.id, m.body_sealed, message_meta(m)), day=m.created_on,
        attachments=attachments.get(m.id, []),
    )


@dataclass(frozen=True)
class ThreadPage:
    """One page of the thread (oldest first within it) with the report's files; pages count from the oldest."""

    items: list[ThreadItem]
    report_files: list[AttachmentInfo]
    page: int
    pages: int


def read_thread_page(session: Session, opened: OpenCase, page: int | None = None) -> ThreadPage:
    """Page `page` of the thread (default and beyond the end: the newest), decrypting only what it shows.

    Messages are numbered 1, 2, ... per case (`Case.message_counter`), so a page is a range of counters
    read through the (case_id, counter) index: opening a case costs the same at 10 or 10,000 messages.
    """
    pages = max(1, -(-opened.case.message_counter // THREAD_PAGE))
    page = pages if page is None else min(max(1, page), pages)
    messages = list(session.scalars(
        select(Message)
        .where(Message.case_id == opened.case.id, Message.counter > (page - 1) * THREAD_PAGE,
               Message.counter <= page * THREAD_PAGE)
        .order_by(Message.counter)
    ))
    attachments = attachment_infos(session, opened, [m.id for m in messages])
    return ThreadPage([_thread_item(opened, m, attachments) for m in messages], attachments.get(None, []), page,
                      pages)


@dataclass(frozen=True)
class NoteItem:
    id: str
    author_user_id: str | None
    body: str
    at: object


def read_notes(session: Session, opened: OpenCase) -> list[NoteItem]:
    notes = session.scalars(select(Note).where(Note.case_id == opened.case.id).order_by(Note.created_at))
    return [NoteItem(n.id, n.author_user_id, opened.open(NOTE, n.id, n.body_sealed, NOTE_META), n.created_at) for n in notes]
