"""How many new cases arrive: today's count against the usual, for the handler's inbox.

A flood of junk reports should show as what it is ("120 new cases today, usually 1 a day") instead of
silently drowning the real ones. Computed from `received_on` (a date) only: nothing here needs, or may
use, a finer time of a reporter's action. Only the handler's own cases are counted, so the notice tells
a handler nothing about cases they hold no key for (a report about them, for instance).

The inbox is the handler's most used page, so the counting stops as soon as the answer is known: a day with
fewer than `BURST_MIN` new cases is no burst whatever the usual, and the days before are counted only up to
the number that would make today's count ordinary. The work is bounded by today's cases, not by how many
cases an organisation receives in a month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.db import count_rows
from app.models import Case, Participant

USUAL_DAYS = 28
BURST_MIN = 10
BURST_FACTOR = 5
# Today's cases are counted up to this many (a flood of more still shows, as this many).
TODAY_CAP = 10_000


@dataclass(frozen=True)
class Inflow:
    """New cases of one handler: today, and the mean per day over the `USUAL_DAYS` days before.

    `usual` is None when it was not needed (fewer than `BURST_MIN` today) or is too high for a burst.
    """

    today: int
    usual: float | None

    @property
    def burst(self) -> bool:
        """At least `BURST_MIN` today and `BURST_FACTOR` times the usual (counted as at least one a day)."""
        return (self.usual is not None and self.today >= BURST_MIN
                and self.today >= BURST_FACTOR * max(self.usual, 1.0))


def _count(session: Session, user_id: str, first: date, last: date, at_most: int) -> int:
    """The handler's cases received from `first` to `last`, counting no further than `at_most`."""
    mine = exists().where(Participant.case_id == Case.id, Participant.user_id == user_id)
    return count_rows(session, select(Case.id).where(Case.received_on >= first, Case.received_on <= last, mine),
                      at_most)


def inflow(session: Session, user_id: str, today: date) -> Inflow:
    """Today's new cases of `user_id` against their usual daily number, read no further than the verdict needs."""
    new = _count(session, user_id, today, today, TODAY_CAP)
    if new < BURST_MIN:
        return Inflow(today=new, usual=None)
    # A burst needs new >= BURST_FACTOR * before / USUAL_DAYS: more cases before than this makes today ordinary.
    ordinary_above = new * USUAL_DAYS // BURST_FACTOR
    before = _count(session, user_id, today - timedelta(days=USUAL_DAYS), today - timedelta(days=1),
                    ordinary_above + 1)
    return Inflow(today=new, usual=None if before > ordinary_above else before / USUAL_DAYS)
