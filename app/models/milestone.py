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


RETENTION_REVIEW = "retention_review"  # a date (when the case may be purged), not a task: never a deadline


def open_deadline(milestone: Any = None) -> ColumnElement[bool]:
    """A milestone still to be met that asks for action (the retention review is a date, not a task).

    `milestone`: an alias of Milestone to test instead of the table itself. The constant is inlined, not
    bound, so that SQLite matches the query to the partial indexes below.
    """
    table = Milestone if milestone is None else milestone
    return and_(table.done_on.is_(None), table.kind != literal(RETENTION_REVIEW, literal_execute=True))


# Open deadlines (of open cases, and the ones closed cases never met) against every milestone: a case's open
# deadlines are found here without touching the history (compliance view, case page).
Index("ix_milestone_open_deadline", Milestone.case_id, Milestone.due_on,
      sqlite_where=open_deadline(), postgresql_where=open_deadline())
# The same open deadlines in date order: the deadline run (`meldkluis deadlines`) reads the ones due by a date.
Index("ix_milestone_open_due", Milestone.due_on, Milestone.case_id, Milestone.kind,
      sqlite_where=open_deadline(), postgresql_where=open_deadline())


class ReminderSent(Base):
    """One reminder per milestone and threshold, so `meldkluis deadlines` can run as often as it likes."""

    __tablename__ = "reminder_sent"

    milestone_id: Mapped[str] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"), primary_key=True)
    threshold: Mapped[str] = mapped_column(String(16), primary_key=True)
    sent_on: Mapped[date] = mapped_column(Date)
