"""The compliance chart: every month of the period and the whole legend inside the drawing."""

from __future__ import annotations

import re
import secrets
from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, Channel
from app.services import clock, compliance


def test_chart_shows_every_month_and_its_whole_legend(app: Flask, db_session: Session) -> None:
    channel = db_session.scalar(select(Channel).where(Channel.slug == "misstand"))
    assert channel is not None
    case = Case(reference="MK-" + secrets.token_hex(3).upper(), receipt_hash=secrets.token_bytes(32),
                reporter_public_key=b"k", reporter_salt=b"s", reporter_auth_digest=b"d", channel_id=channel.id,
                channel=channel, category="fraude", received_on=date(2026, 3, 9))
    db_session.add(case)
    db_session.flush()
    clock.recompute(db_session, case)
    with app.test_request_context("/nl/"):
        chart = str(compliance.overview(db_session, "month", 2026, date(2026, 6, 1), "nl").chart)
        quarters = str(compliance.overview(db_session, "quarter", 2026, date(2026, 6, 1), "nl").chart)
    labels = re.findall(r'text-anchor="middle">([^<]+)</text>', chart)
    assert labels == [f"2026-{month:02d}" for month in range(1, 13)]
    assert re.findall(r'text-anchor="middle">([^<]+)</text>', quarters) == [f"2026-Q{q}" for q in range(1, 5)]
    width = int(re.search(r'viewBox="0 0 (\d+) ', chart).group(1))  # type: ignore[union-attr]
    legend = re.findall(r'<text x="(\d+)" y="\d+" font-size="11">([^<]+)</text>', chart)
    assert [text for _, text in legend] == ["Ontvangen", "Op tijd bevestigd", "Nu te laat"]
    for x, text in legend:  # ~7 px per character at 11 px
        assert int(x) + 7 * len(text) <= width, text
