"""Revision 0004_tally: the tally tables are created and filled from the existing cases (the same figures as the
app's computation from scratch), and dropped again on downgrade."""

from __future__ import annotations

from datetime import date

from sqlalchemy import create_engine, inspect, text

from app import migrate
from app.services import tally

CASES = [  # id, received, acknowledged, feedback, closed, (ack milestones, on time, feedback milestones, on time)
    ("c1", date(2025, 1, 6), date(2025, 1, 8), date(2025, 3, 1), date(2025, 3, 9), (1, 1, 1, 1)),
    ("c2", date(2025, 1, 20), None, None, None, (1, 0, 1, 0)),
    ("c3", date(2025, 2, 3), date(2025, 2, 20), None, None, (1, 0, 1, 0)),
]
MILESTONES = [  # case, kind, due, done
    ("c1", "acknowledge", date(2025, 1, 13), date(2025, 1, 8)), ("c1", "feedback", date(2025, 4, 14), date(2025, 3, 1)),
    ("c1", "retention_review", date(2026, 3, 9), None), ("c2", "acknowledge", date(2025, 1, 27), None),
    ("c2", "feedback", date(2025, 4, 28), None), ("c2", "meeting", date(2025, 2, 10), None),
    ("c3", "acknowledge", date(2025, 2, 10), date(2025, 2, 20)), ("c3", "feedback", date(2025, 5, 20), None),
]


def test_tally_created_filled_and_dropped(scratch_database: str) -> None:
    url = scratch_database
    migrate.upgrade(url, "0003_channel_questions")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO deadline_policy (id, slug, name, description, rules, builtin, "
                                    "shift_to_working_day) VALUES ('p', 'p', 'P', '', '[]', false, false)"))
            connection.execute(text(
                "INSERT INTO channel (id, slug, kind, name_nl, name_en, description_nl, description_en, categories, "
                "policy_id, retention_months, active, position, acknowledgement_nl, acknowledgement_en) VALUES "
                "('ch', 'ch', 'melding', 'C', 'C', '', '', '[]', 'p', 12, true, 1, '', '')"))
            for case_id, received, acknowledged, feedback, closed, figures in CASES:
                connection.execute(text(
                    'INSERT INTO "case" (id, reference, receipt_hash, reporter_public_key, reporter_salt, '
                    "reporter_auth_digest, channel_id, category, status, anonymous, received_on, acknowledged_on, "
                    "feedback_on, closed_on, legal_hold, acknowledgement_milestones, acknowledgements_on_time, "
                    "feedback_milestones, feedback_on_time, message_counter) VALUES (:id, :id, :hash, :k, :k, :k, "
                    "'ch', 'x', 'new', true, :received, :acknowledged, :feedback, :closed, false, :a, :b, :c, :d, 0)"),
                    {"id": case_id, "hash": case_id.encode(), "k": b"k", "received": received,
                     "acknowledged": acknowledged, "feedback": feedback, "closed": closed,
                     "a": figures[0], "b": figures[1], "c": figures[2], "d": figures[3]})
            for number, (case_id, kind, due, done) in enumerate(MILESTONES):
                connection.execute(text("INSERT INTO milestone (id, case_id, kind, due_on, done_on, extensions) "
                                        "VALUES (:id, :case_id, :kind, :due, :done, '[]')"),
                                   {"id": f"m{number}", "case_id": case_id, "kind": kind, "due": due, "done": done})
        migrate.upgrade(url, "0004_tally")
        with engine.connect() as connection:
            filled = tally.stored(connection)
            assert filled == tally.from_scratch(connection)
            assert filled["month", (date(2025, 1, 1), "ch"), "received"] == 2
            assert filled["days", (date(2025, 2, 1), "ch", "ack", 17), "cases"] == 1
            assert filled["due", (date(2025, 1, 1), "ch", "open", date(2025, 2, 10)), "milestones"] == 1
            assert filled["due", (date(2025, 1, 1), "ch", "feedback", date(2025, 4, 28)), "milestones"] == 1
            if engine.dialect.name == "sqlite":
                for table in ("tally_month", "tally_days", "tally_due"):
                    sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar()
                    assert sql is not None and sql.rstrip().endswith("WITHOUT ROWID"), table
        migrate.downgrade(url, "0003_channel_questions")
        assert not {"tally_month", "tally_days", "tally_due"} & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
