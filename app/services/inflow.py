"""How many new cases arrive: today's count against the usual, for the handler's inbox.

A flood of junk reports should show as what it is ("120 new cases today, usually 1 a day") instead of
silently drowning the real ones. Computed from `received_on` (a date) only: nothing here needs, or may
use, a finer time of a reporter's action. Only the handler's own cases are counted, so the notice tells
a handler nothing about cases they hold no key for (a report about them, for instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.models import Case, Participant

USUAL_DAYS = 28
BURST_MIN = 10
BURST_FACTOR = 5


@dataclass(frozen=True)
class Inflow:
    """New cases of one handler: today, and the mean per day over the `USUAL_DAYS` days before."""

    today: int
    usual: float

    @property
    def burst(self) -> bool:
        """At least `BURST_MIN` today and `BURST_FACTOR` times the usual (counted as at least one a day)."""
        return self.today >= BURST_MIN and self.today >= BURST_FACTOR * max(self.usual, 1.0)


def inflow(session: Session, user_id: str, today: date) -> Inflow:
    """Today's new cases of `user_id` against their usual daily number (one grouped query by date)."""
    since = today - timedelta(days=USUAL_DAYS)
    mine = exists().where(Participant.case_id == Case.id, Participant.user_id == user_id)
    counts: dict[date, int] = {day: n for day, n in session.execute(
        select(Case.received_on, func.count())
        .where(Case.received_on >= since, Case.received_on <= today, mine)
        .group_by(Case.received_on)
    )}
    before = sum(n for day, n in counts.items() if day < today)
    return Inflow(today=counts.get(today, 0), usual=before / USUAL_DAYS)
