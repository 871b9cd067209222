"""Milestones: the statutory clock of a case (computed by app/services/clock.py)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    and_,
    literal,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import NO_ROWID, Base, new_id

if TYPE_CHECKING:
    from app.models.case import Case


class Milestone(Base):
    """One dated obligation of a case, e.g. "acknowledge by 2026-12-01"; met when done on or before due."""

    __tablename__ = "milestone"
    __table_args__ = (
        UniqueConstraint("case_id", "kind"),
        # Covering: joining a case to its milestones (statistics, deadline list, inbox) reads only this index.
        Index("ix_milestone_case_dates", "case_id", "kind", "due_on", "done_on"),
        NO_ROWID,
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    done_on: Mapped[date | None] = mapped_column(Date)
    # The date of the event that started the clock (e.g. the day the reporter asked for a meeting).
    triggered_on: Mapped[date | None] = mapped_column(Date)
    # Extensions applied to this milestone (e.g. Awb 9:11 "committee", "extension"); reasons are audited.
    extensions: Mapped[list[Any]] = mapped_column(JSON, default=list)

    # Never loaded; it tells a flush to insert the case before its milestones, so a new case and its
    # milestones go to the database in one flush (app/services/clock.py on_received).
    case: Mapped[Case] = relationship(lazy="raise")


def open_deadline() -> ColumnElement[bool]:
    """A milestone still to be met that asks for action (the retention review is a date, not a task).

    The constant is inlined, not bound, so that SQLite matches the query to the partial index below.
    """
    return and_(Milestone.done_on.is_(None), Milestone.kind != literal("retention_review", literal_execute=True))


# Open deadlines are few (open cases only) while milestones accumulate: the inbox finds each case's
# nearest one here without touching the history.
Index("ix_milestone_open_deadline", Milestone.case_id, Milestone.due_on,
      sqlite_where=open_deadline(), postgresql_where=open_deadline())


class ReminderSent(Base):
    """One reminder per milestone and threshold, so `meldkluis deadlines` can run as often as it likes."""

    __tablename__ = "reminder_sent"

    milestone_id: Mapped[str] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"), primary_key=True)
    threshold: Mapped[str] = mapped_column(String(16), primary_key=True)
    sent_on: Mapped[date] = mapped_column(Date)
