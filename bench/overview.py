"""Compliance overview over many cases vs the static start page: p50/p95 and their ratio (budget: <= 20x).

Creates N cases (default 100,000) with their milestones by bulk insert on a temporary SQLite database
(or, with DATABASE_URL, in a private PostgreSQL schema that is dropped afterwards), serves the app with
gunicorn, and times the overview of the current year (month view, with the list of due milestones)
against the start page, interleaved. On PostgreSQL the tables are vacuumed and analysed after the bulk
insert, as autovacuum would do, so index-only scans and the planner see a settled database.

    .venv/bin/python bench/overview.py [--cases 100000] [--requests 40]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (  # noqa: E402
    alternate_with_start_page,
    bench_environment,
    gunicorn_server,
    private_database,
    report_p95_ratio,
    temporary_instance,
)

BUDGET = 20.0


def on_time(items: list[Any]) -> int:
    return sum(1 for item in items if item.done_on is not None and item.done_on <= item.due_on)


def populate(count: int) -> str:
    """Insert `count` cases spread over five years; returns a compliance officer's session cookie."""
    from sqlalchemy import insert, select

    from app import create_app
    from app.db import session_scope
    from app.models import Case, Channel, Milestone, User, new_id, utcnow
    from app.services import accounts, clock, staff_auth

    app = create_app()
    today = clock.today()
    rng = random.Random(7)
    with app.test_request_context(), session_scope(app) as session:
        channels = list(session.scalars(select(Channel)))
        cases: list[dict[str, object]] = []
        milestones: list[dict[str, object]] = []
        for _ in range(count):
            channel = rng.choice(channels)
            received = today - timedelta(days=rng.randrange(0, 5 * 365))
            case_id = new_id()
            # Most cases are handled (some late); only recent ones are still open.
            acknowledged = received + timedelta(days=rng.randrange(0, 12)) if rng.random() < 0.98 else None
            feedback = received + timedelta(days=rng.randrange(20, 110)) if rng.random() < 0.97 else None
            closed = (feedback or received + timedelta(days=100)) + timedelta(days=rng.randrange(0, 30))
            acknowledged, feedback, closed = (
                None if value is None or value > today else value for value in (acknowledged, feedback, closed))
            cases.append({
                "id": case_id, "reference": "MK-" + secrets.token_hex(6).upper(), "receipt_hash": secrets.token_bytes(32),
                "reporter_public_key": secrets.token_bytes(32), "reporter_salt": secrets.token_bytes(16),
                "reporter_auth_digest": secrets.token_bytes(32),
                "channel_id": channel.id, "category": rng.choice(channel.categories)["slug"],
                "status": "closed" if closed else "in_progress", "anonymous": rng.random() < 0.8,
                "received_on": received, "acknowledged_on": acknowledged, "feedback_on": feedback,
                "closed_on": closed, "legal_hold": False, "message_counter": 0,
            })
            events = {"received": received, **({"acknowledged": acknowledged} if acknowledged else {}),
                      **({"feedback": feedback} if feedback else {}), **({"closed": closed} if closed else {})}
            planned = clock.plan(clock.policy_rules(channel.policy), events, retention_months=channel.retention_months,
                                 shift_to_working_day=False)
            acks = [item for item in planned.values() if item.kind in clock.ACK_KINDS]
            feedback_items = [item for item in planned.values() if item.kind in clock.FEEDBACK_KINDS]
            cases[-1].update(  # the figures clock.recompute keeps on the case
                acknowledgement_milestones=len(acks), acknowledgements_on_time=on_time(acks),
                feedback_milestones=len(feedback_items), feedback_on_time=on_time(feedback_items))
            for item in planned.values():
                milestones.append({"id": new_id(), "case_id": case_id, "kind": item.kind, "due_on": item.due_on,
                                   "done_on": item.done_on, "triggered_on": item.triggered_on, "extensions": []})
        for start in range(0, len(cases), 5000):
            session.execute(insert(Case), cases[start:start + 5000])
        for start in range(0, len(milestones), 5000):
            session.execute(insert(Milestone), milestones[start:start + 5000])
        user = accounts.create_user(session, "bench-compliance", ["compliance"], display_name="Bench")
        accounts.activate_user(session, user, "a long enough password 123", app.config["MELDKLUIS"].handler_kdf)
        session.flush()
        officer = session.get(User, user.id)
        assert officer is not None
        cookie = staff_auth.start_session(session, officer, secrets.token_bytes(32), utcnow()).cookie_value
    settle(app)
    return cookie


def settle(app: object) -> None:
    """PostgreSQL: VACUUM ANALYZE the bulk-loaded tables (what autovacuum does soon after a bulk load)."""
    from app.db import engine_of

    engine = engine_of(app)  # type: ignore[arg-type]
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("case", "milestone"):
            connection.exec_driver_sql(f'VACUUM ANALYZE "{table}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with temporary_instance() as folder, private_database(os.environ.get("DATABASE_URL")) as database_url:
        env = bench_environment(Path(folder), database_url, MELDKLUIS_KDF="test")
        os.environ.update(env)
        with gunicorn_server(env) as base:
            print(f"inserting {args.cases} cases ...", flush=True)
            cookie = populate(args.cases)
            headers = {"Cookie": f"mk_staff={cookie}"}
            overview_url = f"{base}/nl/compliance/?period=month&year={date.today().year}"
            static, overview = alternate_with_start_page(base, overview_url, headers, args.requests)
    return report_p95_ratio("compliance overview", static, overview, BUDGET, f"{args.cases} cases")


if __name__ == "__main__":
    sys.exit(main())
