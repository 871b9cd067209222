"""The compliance overview's tally: counts per month of receipt and channel, kept by every change of a case.

The overview reads these (a bounded number of rows a month, however many cases there are) instead of the
year's cases. app/services/tally.py keeps them in step on every flush that changes a case's dates, channel,
milestone figures or milestones, and can rebuild them from the cases. A row holds counts only; its keys are a
month (the first day), a channel and, for the finer tables, a number of days or a due date: nothing finer
than the dates the case rows already hold.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import NO_ROWID, Base


class TallyMonth(Base):
    """The cases received in one month in one channel, and their acknowledgement and feedback milestones."""

    __tablename__ = "tally_month"
    # Written by a reporter's submission: stored in key order, not in the order reports came in.
    __table_args__ = (NO_ROWID,)

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    # No foreign key: a channel whose cases all moved away may be deleted and leave rows of zeros.
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    ack_total: Mapped[int] = mapped_column(Integer, default=0)
    ack_on_time: Mapped[int] = mapped_column(Integer, default=0)
    feedback_total: Mapped[int] = mapped_column(Integer, default=0)
    feedback_on_time: Mapped[int] = mapped_column(Integer, default=0)


class TallyDays(Base):
    """For the medians: how many of the month's cases were acknowledged (`kind` "ack") or given feedback
    ("feedback") `days` after receipt. A few hundred rows a month, whatever the number of cases."""

    __tablename__ = "tally_days"
    __table_args__ = (NO_ROWID,)

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class TallyDue(Base):
    """Milestones not done yet, by due date, so the overview splits them into overdue and running by today:
    `kind` "ack" and "feedback" (the statistics' kinds, of open and closed cases) and "open" (every open
    deadline of an open case, the retention review excepted: what is overdue now)."""

    __tablename__ = "tally_due"
    __table_args__ = (NO_ROWID,)

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    milestones: Mapped[int] = mapped_column(Integer, default=0)
