"""The pages' medians, found in SQL from the middle of each day histogram, against the whole histograms."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, Channel
from app.services import compliance

ON = date(2025, 11, 20)


def test_middle_of_the_histograms_gives_the_same_medians(
    db_session: Session, app: Flask, make_case: Callable[..., Case]
) -> None:
    rng = random.Random(11)
    slugs = list(db_session.scalars(select(Channel.slug).order_by(Channel.position)))
    for _ in range(90):  # repeated day counts (ties) and cells of odd and even size, over two years
        received = ON - timedelta(days=rng.randrange(0, 700))
        case = make_case(rng.choice(slugs), received)
        if rng.random() < 0.8:
            case.acknowledged_on = min(ON, received + timedelta(days=rng.choice((0, 2, 3, 3, 7, 14))))
        if rng.random() < 0.6:
            case.feedback_on = min(ON, received + timedelta(days=rng.randrange(10, 40)))
    db_session.flush()
    sizes: set[int] = set()
    with app.test_request_context("/nl/"):
        for granularity in compliance.GRANULARITIES:
            for year in (None, ON.year - 1, ON.year):
                whole = compliance.compute_stats(db_session, granularity, year, ON)
                middle = compliance.compute_stats(db_session, granularity, year, ON, histograms=False)
                assert set(middle) == set(whole), (granularity, year)
                for key, stats in whole.items():
                    found = middle[key]
                    assert (found.median_ack_days, found.median_feedback_days) == (
                        stats.median_ack_days, stats.median_feedback_days), (granularity, year, key)
                    assert len(found.ack_days) <= 2 and len(found.feedback_days) <= 2
                    assert found.received == stats.received and found.ack_on_time == stats.ack_on_time
                    sizes.add(sum(stats.ack_days.values()) % 2)
    assert sizes == {0, 1}  # both kinds of median: the middle value and the mean of the two middle values
