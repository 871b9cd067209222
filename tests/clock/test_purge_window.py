"""The nightly purge reads only cases near their date: its SQL window never misses a case that is due."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from app.services.retention import MONTH_END_SLACK_DAYS


@given(closed=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
       months=st.integers(min_value=0, max_value=240), late=st.integers(min_value=0, max_value=40))
def test_every_due_case_lies_inside_the_window(closed: date, months: int, late: int) -> None:
    on = closed + relativedelta(months=months) + timedelta(days=late)  # the purge date or any day after it
    assert closed <= on - relativedelta(months=months) + timedelta(days=MONTH_END_SLACK_DAYS)


def test_the_slack_is_needed_at_month_ends() -> None:
    closed, on = date(2026, 5, 31), date(2026, 6, 30)  # 31 May + 1 month = 30 June: due that day
    assert closed + relativedelta(months=1) == on
    assert closed > on - relativedelta(months=1)  # 30 May: without the slack the case would be missed
