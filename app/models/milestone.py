"""Milestones: the statutory clock of a case (computed by app/services/clock.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, new_id


class Milestone(Base):
    """One dated obligation of a case, e.g. "acknowledge by 2026-12-01"; met when done on or before due."""

    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("case_id", "kind"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    done_on: Mapped[date | None] = mapped_column(Date)
    # The date of the event that started the clock (e.g. the day the reporter asked for a meeting).
    triggered_on: Mapped[date | None] = mapped_column(Date)
    # Extensions applied to this milestone (e.g. Awb 9:11 "committee", "extension"); reasons are audited.
    extensions: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ReminderSent(Base):
    """One reminder per milestone and threshold, so `meldkluis deadlines` can run as often as it likes."""

    __tablename__ = "reminder_sent"

    milestone_id: Mapped[str] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"), primary_key=True)
    threshold: Mapped[str] = mapped_column(String(16), primary_key=True)
    sent_on: Mapped[date] = mapped_column(Date)
