"""What a handler does with a case: the inbox, reading a case, and every action on it (each audited).

Content is decrypted for one request only, from the `OpenCase` the handler's session key made possible.
Dates are always the server's date in the organisation's time zone (`clock.today()`, checked again by the
clock): a handler cannot back-date anything.
Audit events record who, what and when, never content.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from math import ceil
from urllib.parse import quote

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, lazyload, load_only

from app.config import Settings
from app.db import count_rows
from app.models import (
    STATUSES,
    Attachment,
    AuditEvent,
    Case,
    CaseExclusion,
    Channel,
    Milestone,
    Participant,
    User,
)
from app.services import case_track, cases, clock, notify, retention, storage
from app.services.cases import AttachmentInfo, NoteItem, OpenCase, ThreadItem
from app.services.staff_auth import Staff
from app.services.submission import ONGOING_CHOICES, Question, channel_questions

OUTCOMES = ("founded", "partly_founded", "unfounded", "referred", "withdrawn", "not_investigated")
OPEN_STATUSES = tuple(s for s in STATUSES if s != "closed")
PER_PAGE = 50


class CaseNotFound(LookupError):
    """No such case, or this handler holds no key for it (the two look the same)."""


class CaseForbidden(PermissionError):
    """A staff member without the handler role: compliance and admin open no content."""


class ActionRefused(ValueError):
    """An action that cannot be done now; the message is safe to show."""


def audit(session: Session, staff: Staff, case: Case | None, action: str, detail: str = "") -> None:
    session.add(AuditEvent(user_id=staff.user.id, case_id=case.id if case else None, action=action, detail=detail))


# --- inbox ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    reference: str
    channel: str
    category: str
    status: str
    received_on: date
    acknowledged_on: date | None
    next_milestone: str | None
    next_due: date | None
    overdue: bool
    unread: bool


ChannelChoice = tuple[str, str, list[tuple[str, str]]]  # (slug, name, [(category slug, category name)])


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox; `total` is exact up to COUNT_CAP, `more` says there are more than that.

    `channels` are the filter's choices, from the same read of the channels as the rows' names.
    """

    rows: list[InboxRow]
    page: int
    pages: int
    total: int
    channels: list[ChannelChoice]
    more: bool = False


# The inbox counts a handler's (filtered) cases up to this many and then says "more than": counting every case
# of a long history on every inbox view would make the page grow with that history.
COUNT_CAP = 1000


def inbox(
    session: Session, user_id: str, lang: str, today: date, *, status: str = "", channel: str = "",
    category: str = "", page: int = 1,
) -> InboxPage:
    """The handler's cases, nearest open milestone first (cases without one last), with filters and paging.

    The work does not grow with the handler's history: open cases with an open deadline (found by a partial
    index; a closed case leaves the deadline part, also with milestones it never met) are listed first; the
    others, ordered by date received, are read only for the pages after those. Every statement pages with
    LIMIT in SQL and reads only the columns shown (a case row also carries its sealed report).
    """
    mine = (
        select(Case.id)
        .join(Participant, and_(Participant.case_id == Case.id, Participant.user_id == user_id))
        .where(Case.purged_on.is_(None))
    )
    if status in STATUSES:
        mine = mine.where(Case.status == status)
    if channel:
        mine = mine.where(Case.channel_id == select(Channel.id).where(Channel.slug == channel).scalar_subquery())
    if category:
        mine = mine.where(Case.category == category)
    if status in STATUSES or channel or category:
        total = count_rows(session, mine, COUNT_CAP + 1)
    else:  # purging a case deletes its participants: the handler's participant rows are their cases
        total = count_rows(session, select(Participant.id).where(Participant.user_id == user_id), COUNT_CAP + 1)
    more = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    pages = max(1, ceil(total / PER_PAGE))
    page = max(1, page) if more else min(max(1, page), pages)
    start = (page - 1) * PER_PAGE
    columns = (Case.id, Case.reference, Case.channel_id, Case.category, Case.status, Case.received_on,
               Case.acknowledged_on, Case.message_counter, Participant.last_read_counter,
               Case.next_due_on, Case.next_milestone)
    # Open cases with an open deadline first, nearest first: walked in date order through ix_case_next_due
    # (the clock keeps each open case's nearest deadline on its row), a page reads about a page of cases.
    # The list of closed cases skips this part: the clock gives a closed case no next deadline.
    with_deadline = mine.where(Case.next_due_on.is_not(None))
    rows = [] if status == "closed" else list(session.execute(
        with_deadline.with_only_columns(*columns)
        .order_by(Case.next_due_on, Case.received_on, Case.reference)
        .limit(PER_PAGE).offset(start)
    ))
    if len(rows) < PER_PAGE and start + len(rows) < total:
        # Cases in the deadline part: all up to this page's last row when it showed some, else counted.
        deadlines = start + len(rows) if rows else 0 if status == "closed" else count_rows(session, with_deadline)
        rows += session.execute(
            mine.with_only_columns(*columns)
            .where(Case.next_due_on.is_(None))
            .order_by(Case.received_on, Case.reference)
            .limit(PER_PAGE - len(rows)).offset(max(0, start - deadlines))
        ).all()
    # Only what the rows and the filter show (not the policy, questions and texts with their JSON).
    listed = list(session.scalars(
        select(Channel).options(load_only(Channel.id, Channel.slug, Channel.name_nl, Channel.name_en,
                                          Channel.categories, Channel.position), lazyload(Channel.policy))
        .order_by(Channel.position)))
    channels = {c.id: c for c in listed}
    return InboxPage(
        rows=[
            InboxRow(
                reference=row.reference,
                channel=channels[row.channel_id].name(lang),
                category=channels[row.channel_id].category_name(row.category, lang),
                status=row.status,
                received_on=row.received_on,
                acknowledged_on=row.acknowledged_on,
                next_milestone=row.next_milestone,
                next_due=row.next_due_on,
                overdue=row.next_due_on is not None and row.next_due_on < today,
                unread=row.message_counter > row.last_read_counter,
            )
            for row in rows
        ],
        page=page,
        pages=pages,
        total=total,
        channels=channel_choices(listed, lang),
        more=more,
    )


# --- reading a case ----------------------------------------------------------------------------------


def open_case(session: Session, staff: Staff, reference: str) -> OpenCase:
    """The case with its key for this request; CaseForbidden for non-handlers, CaseNotFound otherwise."""
    if not staff.has("handler"):
        raise CaseForbidden(reference)
    found = session.execute(  # the case with this handler's sealed key for it, in one round trip
        select(Case, Participant)
        .outerjoin(Participant, and_(Participant.case_id == Case.id, Participant.user_id == staff.user.id))
        .where(Case.reference == reference, Case.purged_on.is_(None))
    ).first()
    if found is None:
        raise CaseNotFound(reference)
    try:
        return cases.open_with(found[0], found[1], staff.private_key)
    except cases.NotAParticipant as error:
        raise CaseNotFound(reference) from error


@dataclass(frozen=True)
class CaseView:
    """Everything the case page shows, decrypted for this request."""

    case: Case
    report: dict[str, str]
    identity: str | None
    report_files: list[AttachmentInfo]
    thread: list[ThreadItem]
    thread_page: int
    thread_pages: int
    notes: list[NoteItem]
    handlers: list[User]
    deselected: list[User]
    share_candidates: list[User]
    milestones: list[Milestone]
    extensions: list[tuple[Milestone, str, int]]  # case_track.extensions_available()
    move_channels: list[Channel]  # the active channels the case can move to
    names: dict[str | None, str]
    acknowledgement_text: str
    answers: list[tuple[str, str]]  # the report under its question labels, empty answers left out
    disclosure_risk: bool  # Directive art. 15(1)(a): the feedback date passed without feedback
    today: date


def case_view(session: Session, opened: OpenCase, staff: Staff, lang: str, thread_page: int | None = None) -> CaseView:
    """Decrypt the case for its page and mark its thread as read by this handler (audited as a view).

    The thread is shown a page at a time (`cases.THREAD_PAGE` messages, default the newest page), so a
    long case opens as fast as a short one; the newest messages are the ones marked as read. Each table is
    read once (every staff member with their relation to the case in one statement; the milestones once
    for the table, the disclosure risk and the extensions).
    """
    case = opened.case
    staff_of_case = _staff_of_case(session, case)
    thread = cases.read_thread_page(session, opened, thread_page)
    participant = _own_participant(session, opened, staff)
    if participant is not None:
        participant.last_read_counter = case.message_counter
    audit(session, staff, case, "case_viewed")
    report = cases.read_report(opened)
    milestones = list(session.scalars(select(Milestone).where(Milestone.case_id == case.id).order_by(Milestone.due_on)))
    today = clock.today()
    return CaseView(
        case=case,
        report=report,
        identity=cases.read_identity(opened),
        report_files=thread.report_files,
        thread=thread.items,
        thread_page=thread.page,
        thread_pages=thread.pages,
        notes=cases.read_notes(session, opened),
        handlers=[member.user for member in staff_of_case if member.handles],
        deselected=[member.user for member in staff_of_case if member.deselected],
        share_candidates=[member.user for member in staff_of_case if member.may_receive],
        milestones=milestones,
        extensions=case_track.extensions_available(session, case, milestones),
        move_channels=list(session.scalars(
            select(Channel).where(Channel.active.is_(True), Channel.id != case.channel_id).order_by(Channel.position))),
        names={member.user.id: member.user.display_name for member in staff_of_case},
        acknowledgement_text=case.channel.acknowledgement_en if lang == "en" else case.channel.acknowledgement_nl,
        answers=labelled_answers(report, channel_questions(case.channel)),
        disclosure_risk=case.purged_on is None and clock.disclosure_risk(session, case, today, milestones),
        today=today,
    )


@dataclass(frozen=True)
class CaseStaff:
    """A staff account as the case page sees it: holds the case key, deselected by the reporter, or neither."""

    user: User
    handles: bool
    deselected: bool

    @property
    def may_receive(self) -> bool:
        """An active handler with a key who does not hold this case's key and whom the reporter did not deselect."""
        user = self.user
        return user.is_handler and user.active and user.public_key is not None and not (self.handles or self.deselected)


def _staff_of_case(session: Session, case: Case) -> list[CaseStaff]:
    """Every staff account by name, each with its relation to the case: one statement for the case page's lists."""
    handles = select(Participant.id).where(Participant.case_id == case.id, Participant.user_id == User.id).exists()
    deselected = (
        select(CaseExclusion.user_id).where(CaseExclusion.case_id == case.id, CaseExclusion.user_id == User.id).exists()
    )
    rows = session.execute(select(User, handles, deselected).order_by(User.display_name))
    return [CaseStaff(user, bool(holds), bool(excluded)) for user, holds, excluded in rows]


def share_candidates(session: Session, case: Case) -> list[User]:
    """Active handlers with a key who do not hold this case's key and whom the reporter did not deselect."""
    return [member.user for member in _staff_of_case(session, case) if member.may_receive]


def labelled_answers(report: dict[str, str], questions: tuple[Question, ...]) -> list[tuple[str, str]]:
    """The report's answers under their channel's question labels, in the request's language; empty answers
    left out, coded answers ("yes") in words. Keys no question knows (older forms) keep their key as label."""
    words = {code: str(label) for code, label in ONGOING_CHOICES}
    known = {question.key for question in questions}
    answers = []
    for question in questions:
        value = (report.get(question.key) or "").strip()
        if value:
            answers.append((str(question.label), words.get(value, value) if question.key == "ongoing" else value))
    answers += [(key, value) for key, value in report.items() if key not in known and value.strip()]
    return answers


# --- actions -----------------------------------------------------------------------------------------


def _checked_text(settings: Settings, text: str) -> str:
    text = text.strip()
    if not text:
        raise ActionRefused(str(_l("Write a text first.")))
    if len(text) > settings.max_text_chars:
        raise ActionRefused(str(_l("Use at most %(n)s characters.", n=settings.max_text_chars)))
    return text


def _require_open(case: Case) -> None:
    if case.status == "closed":
        raise ActionRefused(str(_l("This case is closed.")))


def _own_participant(session: Session, opened: OpenCase, staff: Staff) -> Participant | None:
    """The staff member's participant row of the case: the one that opened it (`open_case`), else read."""
    if opened.participant is not None and opened.participant.user_id == staff.user.id:
        return opened.participant
    return session.scalar(
        select(Participant).where(Participant.case_id == opened.case.id, Participant.user_id == staff.user.id)
    )


def _post_message(session: Session, opened: OpenCase, staff: Staff, body: str, day: date, kind: str) -> None:
    cases.add_message(session, opened, author_kind="handler", body=body, day=day, kind=kind,
                      author_user_id=staff.user.id)
    participant = _own_participant(session, opened, staff)
    if participant is not None:
        participant.last_read_counter = opened.case.message_counter


def acknowledge(session: Session, settings: Settings, opened: OpenCase, staff: Staff, text: str, day: date) -> None:
    """Send the acknowledgement of receipt to the reporter's mailbox and meet the acknowledge milestone."""
    case = opened.case
    _require_open(case)
    if case.acknowledged_on is not None:
        raise ActionRefused(str(_l("This case was acknowledged already.")))
    _post_message(session, opened, staff, _checked_text(settings, text), day, "acknowledgement")
    if case.status == "new":
        case.status = "acknowledged"
    clock.on_acknowledged(session, case, day)
    audit(session, staff, case, "acknowledged")


def reply(session: Session, settings: Settings, opened: OpenCase, staff: Staff, text: str, day: date) -> None:
    """A message to the reporter."""
    _require_open(opened.case)
    _post_message(session, opened, staff, _checked_text(settings, text), day, "message")
    if opened.case.status in ("new", "acknowledged"):
        opened.case.status = "in_progress"
    audit(session, staff, opened.case, "replied")


def record_feedback(
    session: Session, settings: Settings, opened: OpenCase, staff: Staff, text: str, day: date
) -> None:
    """The feedback message: what was done with the report; meets the feedback (or respond/decide) milestone."""
    case = opened.case
    _require_open(case)
    _post_message(session, opened, staff, _checked_text(settings, text), day, "feedback")
    case.status = "feedback_given"
    clock.on_feedback(session, case, day)
    audit(session, staff, case, "feedback_recorded")


def add_note(session: Session, settings: Settings, opened: OpenCase, staff: Staff, text: str) -> None:
    """An internal note, for the case's handlers only."""
    cases.add_note(session, opened, staff.user.id, _checked_text(settings, text))
    audit(session, staff, opened.case, "note_added")


def set_status(session: Session, opened: OpenCase, staff: Staff, status: str) -> None:
    """Move an open case between the open statuses (closing has its own action, with an outcome)."""
    _require_open(opened.case)
    if status not in OPEN_STATUSES:
        raise ActionRefused(str(_l("Choose a status.")))
    opened.case.status = status
    audit(session, staff, opened.case, "status_changed", status)


def close(session: Session, opened: OpenCase, staff: Staff, outcome: str, day: date) -> None:
    """Close the case with an outcome; the retention period starts today."""
    case = opened.case
    _require_open(case)
    if outcome not in OUTCOMES:
        raise ActionRefused(str(_l("Choose an outcome.")))
    case.status = "closed"
    case.outcome = outcome
    clock.on_closed(session, case, day)
    audit(session, staff, case, "closed", outcome)


def share(session: Session, opened: OpenCase, staff: Staff, user_id: str) -> None:
    """Seal the case key to another handler; never to one the reporter deselected."""
    case = opened.case
    target = session.get(User, user_id)
    if target is None or not target.is_handler or not target.active or target.public_key is None:
        raise ActionRefused(str(_l("Choose a handler.")))
    if session.get(CaseExclusion, (case.id, target.id)) is not None:
        raise ActionRefused(str(_l("The reporter deselected this handler: the case cannot be shared with them.")))
    cases.add_participant(session, opened, target)
    notify.queue_notification(session, [target.id], "new_case")
    audit(session, staff, case, "shared", target.id)


def set_legal_hold(session: Session, opened: OpenCase, staff: Staff, reason: str) -> None:
    """Keep the case from being purged (e.g. pending proceedings); the reason goes to the audit trail."""
    try:
        retention.set_legal_hold(session, opened.case, reason, staff.user.id)
    except retention.LegalHoldError as problem:
        raise ActionRefused(str(problem.message)) from problem


def lift_legal_hold(session: Session, opened: OpenCase, staff: Staff, reason: str) -> None:
    """Let the retention period apply again; the reason goes to the audit trail."""
    try:
        retention.clear_legal_hold(session, opened.case, reason, staff.user.id)
    except retention.LegalHoldError as problem:
        raise ActionRefused(str(problem.message)) from problem


def record_meeting_held(session: Session, opened: OpenCase, staff: Staff, day: date) -> None:
    """The meeting the reporter asked for took place: meets the meeting milestone on the server's date."""
    case = opened.case
    _require_open(case)
    meeting = session.scalar(select(Milestone).where(Milestone.case_id == case.id, Milestone.kind == "meeting"))
    if meeting is None:
        raise ActionRefused(str(_l("The reporter has not asked for a meeting.")))
    if meeting.done_on is not None:
        raise ActionRefused(str(_l("This meeting was recorded already.")))
    clock.on_meeting_held(session, case, day)
    audit(session, staff, case, "meeting_held")


def attachment_download(
    session: Session, settings: Settings, opened: OpenCase, staff: Staff, attachment_id: str
) -> tuple[str, Iterator[bytes], int]:
    """An attachment's safe file name, its decrypted stream and its size (CaseNotFound for another case's file)."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != opened.case.id:
        raise CaseNotFound(attachment_id)
    stored = storage.read_attachment(settings.storage_path, opened, attachment)
    audit(session, staff, opened.case, "attachment_downloaded")
    return safe_filename(stored.name), stored.chunks, stored.size


def safe_filename(name: str) -> str:
    """One plain file name: no path, no control or bidi characters, never empty."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] not in "CZ"
                   or ch == " ")
    name = name.strip().lstrip(".")[:150]
    return name or "attachment"


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266)."""
    ascii_name = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def channel_choices(channels: list[Channel], lang: str) -> list[ChannelChoice]:
    """(slug, name, [(category slug, name)]) of each channel, for the inbox filters."""
    return [
        (c.slug, c.name(lang), [(cat["slug"], c.category_name(cat["slug"], lang)) for cat in c.categories])
        for c in channels
    ]
