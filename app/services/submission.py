"""Receiving a report: validate, create the case, seal everything, store the files, commit once.

A `CaseDraft` exists before the first byte of a file arrives (random case id and case key), so the
HTTP path can encrypt each upload while it streams in (app/services/upload.py). `finish_report()`
turns a draft into a committed case; on any failure the draft's files are removed and the database
rolled back, so nothing half-stored remains and no receipt is shown.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import BinaryIO

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import crypto
from app.config import Settings, derive_subkey
from app.models import Case, CaseExclusion, Channel, ChannelRecipient, Participant, User, new_id
from app.services import cases, clock, notify, scrub, storage
from app.services.cases import OpenCase
from app.services.limits import Busy, Limits
from app.services.storage import AttachmentWriter
from app.services.upload import UploadedFile, file_too_large_message, safe_file_name

COPY_CHUNK = 64 * 1024
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U


@dataclass(frozen=True)
class Question:
    """One question of the report form; `key` is the name under which the answer is sealed."""

    key: str
    label: object
    hint: object
    required: bool = False


QUESTIONS: tuple[Question, ...] = (
    Question("what", _l("What happened?"), _l("Describe it in your own words. Facts help most."), required=True),
    Question("when", _l("When did it happen?"), _l("A date or period, as far as you know.")),
    Question("where", _l("Where did it happen?"), _l("Department, location or project.")),
    Question("who", _l("Who is involved?"), _l("Names or roles. Only what is needed.")),
    Question("how_known", _l("How do you know this?"), _l("For example: you saw it, it happened to you, "
                                                             "or someone told you.")),
    Question("ongoing", _l("Is it still going on?"), ""),
    Question("evidence", _l("Is there evidence?"), _l("Describe documents or other proof, or where it can be "
                                                         "found. You can add files below.")),
)
STANDARD_KEYS = tuple(question.key for question in QUESTIONS)
CUSTOM_PREFIX = "q_"  # an admin's own question: its key never meets a standard question or a form field


class ChannelText:
    """A label an admin wrote in Dutch and English; like a lazy msgid, it reads in the current language."""

    def __init__(self, nl: str, en: str) -> None:
        self.nl, self.en = nl, en

    def __str__(self) -> str:
        locale = get_locale()
        return self.en if locale is not None and locale.language == "en" else self.nl


def channel_questions(channel: Channel | None) -> tuple[Question, ...]:
    """The questions of a channel's report form, in its order: the standard ones (all of them if the channel
    chose none) with their translated labels and hints, and the admin's own with their NL/EN labels."""
    if channel is None or channel.questions is None:
        return QUESTIONS
    standard = {question.key: question for question in QUESTIONS}
    chosen = []
    for item in channel.questions:
        key, required = str(item["key"]), bool(item.get("required"))
        if key in standard:
            chosen.append(replace(standard[key], required=required))
        else:
            chosen.append(Question(key, ChannelText(str(item["nl"]), str(item["en"])), "", required))
    return tuple(chosen)


# A case sealed to no handler could never be opened while its statutory clock runs: refused, nothing stored.
NO_READER_MESSAGE = _l("No one can receive reports on this channel at the moment, so we cannot accept yours: "
                       "nothing has been stored. Copy your text if you want to keep it, and try again later "
                       "or choose another way to report.")
ONGOING_CHOICES: tuple[tuple[str, object], ...] = (
    ("yes", _l("Yes")), ("no", _l("No")), ("unknown", _l("I don't know")),
)


class SubmissionError(ValueError):
    """The report cannot be accepted as sent; `errors` maps a form field ("" for the form) to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("report not accepted")
        self.errors = errors


class AlreadyReceived(RuntimeError):
    """This form was sent before (reload, Back, double click): its case exists, nothing new was made."""


@dataclass(frozen=True)
class ReportInput:
    channel_slug: str
    category: str
    fields: dict[str, str]
    recipient_ids: list[str] | None = None  # None: every recipient of the channel
    identity: str | None = None
    language: str = "nl"  # of the page: the passphrase's words are in it (English where no list exists)


@dataclass(frozen=True)
class Receipt:
    """What the reporter sees once: the only copy of the receipt code and passphrase."""

    case_id: str
    reference: str
    receipt_code: str = field(repr=False)
    passphrase: str = field(repr=False)
    reply_by: date | None
    files: tuple[scrub.Outcome, ...] = ()  # per file: hidden data removed, or kept as it came and why
    wordlist_language: str = "en"


@dataclass(frozen=True)
class ChannelRecipientInfo:
    user_id: str
    display_name: str


@dataclass(frozen=True)
class ReportChannel:
    """An active channel with the handlers a report on it goes to: activated accounts only (others hold
    no key), by name."""

    channel: Channel
    recipients: list[User]

    def recipient_choices(self) -> list[ChannelRecipientInfo]:
        """The handlers who would receive a report on this channel, as the reporter sees them."""
        return [ChannelRecipientInfo(u.id, u.display_name or u.username) for u in self.recipients]


def _has_reader() -> ColumnElement[bool]:
    """At least one active recipient of the channel holds a key (else no one could ever open a case)."""
    return (select(ChannelRecipient.user_id)
            .join(User, User.id == ChannelRecipient.user_id)
            .where(ChannelRecipient.channel_id == Channel.id, User.active.is_(True), User.public_key.is_not(None))
            .exists())


def active_channels(session: Session) -> list[Channel]:
    """The channels offered to reporters: active ones that someone can read."""
    return list(session.scalars(select(Channel).where(Channel.active.is_(True), _has_reader())
                                .order_by(Channel.position)))


def find_report_channel(session: Session, slug: str) -> ReportChannel | None:
    """The active channel `slug` and its recipients, in one query (the submit page reads both twice)."""
    rows = session.execute(
        select(Channel, User)
        .outerjoin(ChannelRecipient, ChannelRecipient.channel_id == Channel.id)
        .outerjoin(User, and_(User.id == ChannelRecipient.user_id, User.active.is_(True),
                              User.public_key.is_not(None)))
        .where(Channel.slug == slug, Channel.active.is_(True))
        .order_by(User.display_name, User.id)
    ).all()
    if not rows:
        return None
    return ReportChannel(rows[0][0], [user for _, user in rows if user is not None])


SUBMISSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def new_submission_token() -> str:
    """A one-time token for one submission form (128 bits): the case made from the form is named after it."""
    return secrets.token_urlsafe(16)


def case_id_for_token(settings: Settings, token: str) -> str | None:
    """The id of the case that the form carrying `token` creates, or None if `token` is not one.

    A keyed hash (server secret), so the id is as unguessable as a random one and says nothing about time or
    order, and the same form sent twice names the same case: the second INSERT meets the primary key and is
    recognised (AlreadyReceived), with no table that remembers forms or times.
    """
    if not SUBMISSION_TOKEN.fullmatch(token):
        return None
    key = derive_subkey(settings.master_secret, "submission-case-id")
    return hashlib.blake2b(token.encode("ascii"), key=key, digest_size=16).hexdigest()


@dataclass
class CaseDraft:
    """A case that exists only as an id and a key while its files stream in."""

    opened: OpenCase
    batch: storage.FileBatch
    files: list[UploadedFile] = field(default_factory=list)
    named_files: bool = False  # a file was begun: its encryption binds the case id, which is now fixed

    @classmethod
    def start(cls, settings: Settings) -> CaseDraft:
        opened = OpenCase(Case(id=new_id()), crypto.new_case_key())
        return cls(opened, storage.FileBatch(settings.storage_path, opened, settings.storage_reserve_bytes))

    def name_after(self, settings: Settings, token: str) -> bool:
        """Give the draft the case id of its form's one-time token; False if the token is not valid.

        Must happen before the first file, whose encryption binds the case id.
        """
        case_id = case_id_for_token(settings, token)
        if case_id is None:
            return False
        if self.opened.case.id != case_id:
            if self.named_files:
                raise RuntimeError("a draft is named before its first file")
            self.opened.case.id = case_id
        return True

    def begin_file(self) -> AttachmentWriter:
        self.named_files = True
        return self.batch.begin()

    def discard(self) -> None:
        """Remove every file begun for this draft (finished or not), unless the case was committed."""
        self.batch.discard()
        self.files.clear()


def validate_report(session: Session, settings: Settings, report: ReportInput, file_count: int = 0,
                    found: ReportChannel | None = None) -> tuple[Channel, list[User], list[User]]:
    """Check the report; returns its channel, the channel's recipients and the selected ones.

    `found` is `find_report_channel(report.channel_slug)` if the caller looked it up already.
    """
    errors: dict[str, list[str]] = {}
    if found is None or found.channel.slug != report.channel_slug:
        found = find_report_channel(session, report.channel_slug)
    if found is None:
        raise SubmissionError({"": [str(_l("This channel does not exist (any more). Choose another one."))]})
    channel, recipients = found.channel, found.recipients
    if not recipients:
        raise SubmissionError({"": [str(NO_READER_MESSAGE)]})
    if report.category not in {c["slug"] for c in channel.categories}:
        errors.setdefault("category", []).append(str(_l("Choose a subject.")))
    limit = settings.max_text_chars
    questions = channel_questions(channel)
    for question in questions:
        value = report.fields.get(question.key, "")
        if question.required and not value.strip():
            errors.setdefault(question.key, []).append(str(_l("Please answer this question.")))
        if len(value) > limit:
            errors.setdefault(question.key, []).append(
                str(_l("This text is too long: at most %(n)s characters, you wrote %(m)s.", n=limit, m=len(value))))
    if report.fields.get("ongoing", "") not in {"", *(code for code, _ in ONGOING_CHOICES)}:
        errors.setdefault("ongoing", []).append(str(_l("Choose one of the answers.")))
    unknown = set(report.fields) - {q.key for q in questions}
    if unknown:
        errors.setdefault("", []).append(str(_l("The form contained unexpected fields. Please send it again.")))
    if report.identity is not None and len(report.identity) > limit:
        errors.setdefault("identity", []).append(
            str(_l("This text is too long: at most %(n)s characters, you wrote %(m)s.",
                   n=limit, m=len(report.identity))))
    if file_count > settings.max_files:
        errors.setdefault("files", []).append(str(_l("You can add at most %(n)s files.", n=settings.max_files)))
    all_ids = {user.id for user in recipients}
    wanted = all_ids if report.recipient_ids is None else set(report.recipient_ids)
    selected = [user for user in recipients if user.id in wanted]
    if wanted - all_ids:
        errors.setdefault("recipients", []).append(str(_l("Choose recipients from the list.")))
    if recipients and not selected:
        errors.setdefault("recipients", []).append(str(_l("Leave at least one person selected.")))
    if errors:
        raise SubmissionError(errors)
    return channel, recipients, selected


def _new_reference(session: Session) -> str:
    while True:
        reference = "MK-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if session.scalar(select(Case.id).where(Case.reference == reference)) is None:
            return reference


def admit_report(settings: Settings, limits: Limits) -> None:
    """Take one report from the global budget, or raise limits.Busy ("try again in a few minutes").

    Busy also when the storage volume is down to its reserve: a flood must not fill the disk under the
    database. Over Tor every reporter looks the same, so the budget is global (`MELDKLUIS_SUBMIT_LIMIT`).
    """
    if not storage.has_room(settings.storage_path, settings.storage_reserve_bytes):
        raise Busy("storage reserve")
    if not limits.budget("submissions", settings.submit_limit):
        raise Busy("submissions")


def finish_report(session: Session, settings: Settings, draft: CaseDraft, report: ReportInput,
                  *, day: date | None = None, found: ReportChannel | None = None,
                  limits: Limits | None = None) -> Receipt:
    """Validate and commit the drafted case with its sealed report, files and participants.

    Commits exactly once. Any failure (validation, busy, storage, database) removes the draft's files
    and rolls back, then re-raises. `found`: as for `validate_report`. With `limits` (the HTTP path) a valid
    report must also pass `admit_report`.
    """
    day = day or clock.today()
    try:
        if session.get(Case, draft.opened.case.id) is not None:
            raise AlreadyReceived()
        channel, recipients, selected = validate_report(session, settings, report, len(draft.files), found)
        if limits is not None:
            admit_report(settings, limits)
        identity = (report.identity or "").strip()
        receipt_code = crypto.new_receipt_code()
        wordlist_language = report.language if report.language in crypto.WORDLISTS else "en"
        passphrase = crypto.new_passphrase(language=wordlist_language)
        salt = crypto.new_mailbox_salt()
        keys = crypto.derive_reporter_keys(passphrase, salt)
        opened = draft.opened
        case = opened.case
        case.reference = _new_reference(session)
        case.receipt_hash = crypto.receipt_lookup_hash(receipt_code, settings.receipt_lookup_key)
        case.reporter_public_key = keys.public
        case.reporter_salt = salt
        case.reporter_auth_digest = crypto.auth_key_digest(keys.auth_key)
        case.channel_id = channel.id
        case.channel = channel
        case.category = report.category
        case.status = "new"
        case.anonymous = True
        case.received_on = day
        case.message_counter = 0
        # Sealed before the first flush, so the case is one INSERT (not an INSERT and an UPDATE).
        cases.set_report(opened, {q.key: report.fields.get(q.key, "") for q in channel_questions(channel)})
        if identity:
            cases.set_identity(opened, identity)
        session.add(case)
        session.add(Participant(case_id=case.id, user_id=None,
                                sealed_case_key=crypto.seal_case_key(opened.key, keys.public, case.id)))
        for user in selected:
            assert user.public_key is not None
            session.add(Participant(case_id=case.id, user_id=user.id,
                                    sealed_case_key=crypto.seal_case_key(opened.key, user.public_key, case.id)))
        session.add_all(CaseExclusion(case_id=case.id, user_id=user.id) for user in recipients if user not in selected)
        # Flushes the case, its participants and milestones together; the case row must be in before the
        # attachments, which refer to it by a foreign key only.
        reply_by = clock.on_received(session, case)
        for uploaded in draft.files:
            uploaded.writer.finish(session, name=uploaded.name, author_kind="reporter", day=day)
        notify.queue_notification(session, [user.id for user in selected], "new_case")
        session.commit()
        for uploaded in draft.files:
            uploaded.writer.committed()
    except IntegrityError:
        session.rollback()
        draft.discard()
        if session.get(Case, draft.opened.case.id) is not None:  # the same form, sent twice at once
            raise AlreadyReceived() from None
        raise
    except BaseException:
        session.rollback()
        draft.discard()
        raise
    for uploaded in draft.files:
        uploaded.writer.settle()  # only now: see storage.settle_times
    return Receipt(case.id, case.reference, receipt_code, passphrase, reply_by, wordlist_language=wordlist_language)


def add_file(draft: CaseDraft, settings: Settings, name: str, source: BinaryIO) -> None:
    """Encrypt one file from a readable source into the draft (service path; HTTP streams via upload.py)."""
    if len(draft.files) >= settings.max_files:
        raise SubmissionError({"files": [str(_l("You can add at most %(n)s files.", n=settings.max_files))]})
    writer = draft.begin_file()
    size = 0
    try:
        while chunk := source.read(COPY_CHUNK):
            size += len(chunk)
            if size > settings.max_file_bytes:
                raise SubmissionError({"files": [file_too_large_message(settings.max_file_bytes)]})
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    draft.files.append(UploadedFile(writer, name, size))


def submit_report(session: Session, settings: Settings, report: ReportInput,
                  files: Sequence[tuple[str, BinaryIO]] = (), *, day: date | None = None,
                  clean_files: bool = True) -> Receipt:
    """Create a case from plain values (the core of the submit page; tests and tools call it directly).

    `clean_files`: remove hidden data from the files first (app/services/scrub.py), as the form does by default.
    """
    draft = CaseDraft.start(settings)
    try:
        if len(files) > settings.max_files:
            raise SubmissionError({"files": [str(_l("You can add at most %(n)s files.", n=settings.max_files))]})
        for name, source in files:
            add_file(draft, settings, safe_file_name(name), source)
        outcomes = scrub.clean_uploads(draft.files, draft.batch, settings, enabled=clean_files)
    except BaseException:
        draft.discard()
        raise
    return replace(finish_report(session, settings, draft, report, day=day), files=tuple(outcomes))
