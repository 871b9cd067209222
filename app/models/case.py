"""Cases: one report, its reporter's mailbox credentials, and who may open it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import NO_ROWID, Base, new_id
from app.models.channel import Channel

STATUSES = ("new", "acknowledged", "in_progress", "feedback_given", "closed")


class Case(Base):
    """A report and everything that follows from it.

    Content lives only sealed under the case key: `report_sealed` (the answers, a JSON document) and
    `identity_sealed` (only if the reporter chose to disclose). The reporter's mailbox is found by a
    keyed hash of the receipt code; the passphrase never reaches the database, only the public key
    and a digest of the authentication key derived from it. Dates a reporter's action creates are days.
    """

    __tablename__ = "case"
    __table_args__ = (
        # Covering indexes for the compliance view (app/services/compliance.py): the register and the yearly
        # report read a year of cases from the index alone, and the deadline list starts from the few open cases.
        # (The overview's statistics come from the tally, app/models/tally.py.)
        Index("ix_case_statistics", "received_on", "channel_id", "acknowledged_on", "feedback_on", "closed_on",
              "acknowledgement_milestones", "acknowledgements_on_time", "feedback_milestones", "feedback_on_time"),
        Index("ix_case_open", "closed_on", "status", "received_on", "channel_id", "id", "reference"),
        # Covering for the inbox: a handler's cases are joined, filtered, ordered and shown without
        # reading the rows (which carry the sealed report).
        Index("ix_case_inbox", "id", "purged_on", "received_on", "reference", "status", "channel_id", "category",
              "acknowledged_on", "message_counter"),
        # The inbox walks the open cases' nearest deadlines in date order and stops after a page: only cases
        # with one are in this index, so closed cases (however many years of them) are never walked.
        Index("ix_case_next_due", "next_due_on", "received_on", "reference",
              sqlite_where=text("next_due_on IS NOT NULL"), postgresql_where=text("next_due_on IS NOT NULL")),
        NO_ROWID,
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    receipt_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    reporter_public_key: Mapped[bytes] = mapped_column(LargeBinary)
    reporter_salt: Mapped[bytes] = mapped_column(LargeBinary)
    reporter_auth_digest: Mapped[bytes] = mapped_column(LargeBinary)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channel.id"), index=True)
    category: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="new")
    outcome: Mapped[str | None] = mapped_column(String(64))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    received_on: Mapped[date] = mapped_column(Date)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    feedback_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_hold_reason: Mapped[str | None] = mapped_column(Text)
    purged_on: Mapped[date | None] = mapped_column(Date)
    report_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    identity_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The case's milestones in figures, kept by app/services/clock.py whenever they change, so that the
    # statistics over a year of cases need not join every milestone: how many acknowledgement (and
    # feedback) milestones the case has, and how many of them were met on time.
    acknowledgement_milestones: Mapped[int] = mapped_column(Integer, default=0)
    acknowledgements_on_time: Mapped[int] = mapped_column(Integer, default=0)
    feedback_milestones: Mapped[int] = mapped_column(Integer, default=0)
    feedback_on_time: Mapped[int] = mapped_column(Integer, default=0)
    # The open case's nearest open deadline (date, then kind; never the retention review) for the inbox, kept
    # by the clock with the figures above; None once the case is closed, whatever it left undone.
    next_due_on: Mapped[date | None] = mapped_column(Date)
    next_milestone: Mapped[str | None] = mapped_column(String(32))
    # Monotonic per-case counter for ordering messages within one day without exact times.
    message_counter: Mapped[int] = mapped_column(Integer, default=0)

    channel: Mapped[Channel] = relationship(lazy="joined")
    participants: Mapped[list[Participant]] = relationship(back_populates="case", cascade="all, delete-orphan")
    exclusions: Mapped[list[CaseExclusion]] = relationship(cascade="all, delete-orphan")


class Participant(Base):
    """The case key sealed to one participant: a handler (`user_id`) or the reporter (`user_id` None)."""

    __tablename__ = "participant"
    # Covering for the inbox: a handler's cases and what they read, from the index alone.
    __table_args__ = (Index("ix_participant_inbox", "user_id", "case_id", "last_read_counter"), NO_ROWID)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    sealed_case_key: Mapped[bytes] = mapped_column(LargeBinary)
    last_read_counter: Mapped[int] = mapped_column(Integer, default=0)

    case: Mapped[Case] = relationship(back_populates="participants")


class CaseExclusion(Base):
    """A handler the reporter deselected: never given the case key, shown to the other handlers."""

    __tablename__ = "case_exclusion"
    __table_args__ = (NO_ROWID,)

    case_id: Mapped[str] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)


class ReporterSession(Base):
    """A reporter logged in to their mailbox: their private key re-wrapped under a key only the cookie holds.

    The idle deadline lives in the signed cookie, not here; `seen_on` is the day the session was last used,
    so that rows of abandoned sessions can be dropped, and a copy of the database dates no visit finer than
    the day. The row is deleted at logout, at the first request after the idle limit, or by the purge.
    """

    __tablename__ = "reporter_session"
    __table_args__ = (NO_ROWID,)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    seen_on: Mapped[date] = mapped_column(Date)
