"""Data for the benches: staff accounts with a session cookie, and many cases by bulk insert.

Cases are made as the clock would make them (milestones planned from the channel's policy, the summary
columns `clock.recompute` keeps) but inserted in batches, so 100,000 cases take a minute, not an hour; the
compliance tally is then rebuilt from them.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

PASSWORD = "a long enough password 123"
REPORT = '{"what": "' + "Er worden facturen dubbel betaald aan een leverancier. " * 12 + '"}'
YEARS = 5
# Retention set on every channel by `insert_cases` (an organisation that keeps cases five years): the
# fixture's history then stays unpurged, and `DUE_FOR_PURGE` of the cases are a week past their retention.
RETENTION_MONTHS = 60
DUE_FOR_PURGE = 0.005
# One case in this many has a stored file (for `meldkluis gc`, whose work grows with the stored files). Its row's
# sealed name and file key are random bytes: no bench opens them.
CASES_PER_FILE = 100
FILE_BYTES = 4096


@dataclass(frozen=True)
class StaffLogin:
    user_id: str
    private_key: bytes
    public_key: bytes
    cookie: str


def staff_account(session: Any, settings: Any, username: str, roles: list[str]) -> StaffLogin:
    """An activated account with a live staff session; `cookie` is the value of its mk_staff cookie."""
    from app.models import utcnow
    from app.services import accounts, staff_auth

    user = accounts.create_user(session, username, roles, display_name=username.replace("-", " ").title())
    recovery = accounts.activate_user(session, user, PASSWORD, settings.handler_kdf)
    session.flush()
    private_key = staff_auth.private_key_from_recovery(user, recovery)
    cookie = staff_auth.start_session(session, user, private_key, utcnow()).cookie_value
    assert user.public_key is not None
    return StaffLogin(user.id, private_key, user.public_key, cookie)


def _on_time(items: list[Any]) -> int:
    return sum(1 for item in items if item.done_on is not None and item.done_on <= item.due_on)


def insert_cases(session: Any, count: int, handler: StaffLogin, today: date, seed: int,
                 storage_root: Path | None = None) -> None:
    """`count` cases received over the last five years, every one with `handler` as participant.

    With `storage_root`, one case in `CASES_PER_FILE` also gets a stored file and its attachment row.

    Most are handled (some late) and closed; the recent ones are open. Each case's key is really sealed to
    the handler and its report really sealed under the key, so a case page opens as a real one would.
    """
    from sqlalchemy import insert, select, update

    import crypto
    from app.models import Attachment, Case, Channel, Milestone, Participant, new_id
    from app.services import cases as case_texts
    from app.services import clock, tally
    from app.services.storage import storage_path

    rng = random.Random(seed)
    session.execute(update(Channel).values(retention_months=RETENTION_MONTHS))
    channels = list(session.scalars(select(Channel)))
    rules = {channel.id: clock.policy_rules(channel.policy) for channel in channels}
    rows: dict[type, list[dict[str, object]]] = {Case: [], Participant: [], Milestone: [], Attachment: []}

    def flush() -> None:
        # Core inserts of the tables (not ORM bulk inserts, which PostgreSQL gets one row per statement):
        # psycopg then sends a thousand rows per INSERT.
        for model, batch in rows.items():
            if batch:
                session.execute(insert(model.__table__), batch)  # type: ignore[attr-defined]
                batch.clear()

    for number in range(count):
        channel = rng.choice(channels)
        if rng.random() < DUE_FOR_PURGE:  # closed five years and up to a week ago
            closed: date | None = today - relativedelta(months=RETENTION_MONTHS) - timedelta(days=rng.randrange(0, 7))
            assert closed is not None
            received = closed - timedelta(days=rng.randrange(100, 130))
            acknowledged: date | None = received + timedelta(days=rng.randrange(0, 8))
            feedback: date | None = received + timedelta(days=rng.randrange(20, 90))
        else:
            received = today - timedelta(days=rng.randrange(0, YEARS * 365))
            acknowledged = received + timedelta(days=rng.randrange(0, 12)) if rng.random() < 0.98 else None
            feedback = received + timedelta(days=rng.randrange(20, 110)) if rng.random() < 0.97 else None
            closed = (feedback or received + timedelta(days=100)) + timedelta(days=rng.randrange(0, 30))
            acknowledged, feedback, closed = (
                None if value is None or value > today else value for value in (acknowledged, feedback, closed))
        status = "closed" if closed else "feedback_given" if feedback else "in_progress" if acknowledged else "new"
        messages = rng.randrange(0, 6)
        case_id = new_id()
        case_key = crypto.new_case_key()
        events = {"received": received, **({"acknowledged": acknowledged} if acknowledged else {}),
                  **({"feedback": feedback} if feedback else {}), **({"closed": closed} if closed else {})}
        planned = clock.plan(rules[channel.id], events, retention_months=channel.retention_months,
                             shift_to_working_day=channel.policy.shift_to_working_day)
        acks = [item for item in planned.values() if item.kind in clock.ACK_KINDS]
        feedback_items = [item for item in planned.values() if item.kind in clock.FEEDBACK_KINDS]
        nearest = clock.nearest_deadline(planned.values()) if closed is None else None
        next_due, next_milestone = nearest if nearest is not None else (None, None)
        rows[Case].append({
            "id": case_id, "reference": "MK-" + secrets.token_hex(6).upper(),
            "receipt_hash": secrets.token_bytes(32), "reporter_public_key": secrets.token_bytes(32),
            "reporter_salt": secrets.token_bytes(16), "reporter_auth_digest": secrets.token_bytes(32),
            "channel_id": channel.id, "category": rng.choice(channel.categories)["slug"], "status": status,
            "anonymous": rng.random() < 0.8, "received_on": received, "acknowledged_on": acknowledged,
            "feedback_on": feedback, "closed_on": closed, "legal_hold": False, "message_counter": messages,
            "report_sealed": crypto.seal_text(case_key, REPORT, case_id=case_id, kind=case_texts.REPORT,
                                              row_id=case_id, meta=case_texts.REPORTER_META),
            "acknowledgement_milestones": len(acks), "acknowledgements_on_time": _on_time(acks),
            "feedback_milestones": len(feedback_items), "feedback_on_time": _on_time(feedback_items),
            "next_due_on": next_due, "next_milestone": next_milestone,
        })
        rows[Participant].append({
            "id": new_id(), "case_id": case_id, "user_id": handler.user_id,
            "sealed_case_key": crypto.seal_case_key(case_key, handler.public_key, case_id),
            "last_read_counter": messages if rng.random() < 0.8 else 0,
        })
        rows[Milestone].extend(
            {"id": new_id(), "case_id": case_id, "kind": item.kind, "due_on": item.due_on, "done_on": item.done_on,
             "triggered_on": item.triggered_on, "extensions": []} for item in planned.values())
        if storage_root is not None and number % CASES_PER_FILE == 0:
            key = secrets.token_hex(24)
            path = storage_path(storage_root, key)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_bytes(secrets.token_bytes(FILE_BYTES))
            rows[Attachment].append({
                "id": new_id(), "case_id": case_id, "message_id": None, "author_kind": "reporter",
                "name_sealed": secrets.token_bytes(80), "file_key_sealed": secrets.token_bytes(120),
                "storage_key": key, "created_on": received})
        if number % 5000 == 4999:
            flush()
    flush()
    tally.rebuild(session.connection())  # the inserts bypass the ORM, whose flushes keep the tally


def settle(engine: Any) -> None:
    """PostgreSQL: VACUUM ANALYZE after a bulk load, as autovacuum does within a minute of one."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
