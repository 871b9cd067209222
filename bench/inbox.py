"""Inbox budget: with 10,000 cases for one handler, the inbox's p95 vs the static start page's p95 (<= 5x).

Creates a handler (password + TOTP) and N cases (default 10,000) for them by bulk insert: each case with
the handler as participant (the case key really sealed to the handler's public key), milestones planned
by the clock from the channel's policy, some cases with unread messages. Serves the app with gunicorn
(deploy/gunicorn.conf.py) on a temporary SQLite database, or on a private schema of DATABASE_URL
(PostgreSQL), logs in over HTTP (password and TOTP code) and times the first inbox page (default sort)
against the start page, interleaved. Exits non-zero when over budget.

    .venv/bin/python bench/inbox.py [--cases 10000] [--requests 60]
    DATABASE_URL=postgresql://postgres@127.0.0.1/test .venv/bin/python bench/inbox.py
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import sys
import urllib.parse
from datetime import timedelta
from pathlib import Path

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

BUDGET = 5.0
USERNAME = "bench-handler"
PASSWORD = "a long enough password 123"
REPORT = '{"what": "' + "Er worden facturen dubbel betaald aan een leverancier. " * 12 + '"}'
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def populate(count: int) -> str:
    """Insert the handler and `count` cases for them; returns the handler's TOTP secret."""
    from sqlalchemy import insert, select

    import crypto
    from app import create_app
    from app.db import engine_of, session_scope
    from app.models import Case, Channel, Milestone, Participant, new_id
    from app.services import accounts, clock, staff_auth
    from app.services import cases as case_texts

    app = create_app()
    today = clock.today()
    rng = random.Random(11)
    with app.test_request_context(), session_scope(app) as session:
        user = accounts.create_user(session, USERNAME, ["handler"], display_name="Bench Handler")
        accounts.activate_user(session, user, PASSWORD, app.config["MELDKLUIS"].handler_kdf)
        secret = staff_auth.new_totp_secret()
        user.totp_secret = secret
        session.flush()
        assert user.public_key is not None
        channels = list(session.scalars(select(Channel)))
        rules = {channel.id: clock.policy_rules(channel.policy) for channel in channels}
        cases: list[dict[str, object]] = []
        participants: list[dict[str, object]] = []
        milestones: list[dict[str, object]] = []
        for _ in range(count):
            channel = rng.choice(channels)
            case_id = new_id()
            # Three years of cases: the older ones acknowledged, answered and closed, the recent ones still open.
            received = today - timedelta(days=rng.randrange(0, 3 * 365))
            acknowledged = received + timedelta(days=rng.randrange(0, 9)) if rng.random() < 0.98 else None
            feedback = received + timedelta(days=rng.randrange(20, 95)) if acknowledged else None
            closed = feedback + timedelta(days=rng.randrange(0, 60)) if feedback and rng.random() < 0.95 else None
            acknowledged, feedback, closed = (
                None if value is None or value > today else value for value in (acknowledged, feedback, closed))
            status = ("closed" if closed else "feedback_given" if feedback else "in_progress" if acknowledged
                      else "new")
            messages = rng.randrange(0, 6)
            case_key = crypto.new_case_key()
            cases.append({
                "id": case_id, "reference": "MK-" + secrets.token_hex(6).upper(),
                "receipt_hash": secrets.token_bytes(32), "reporter_public_key": secrets.token_bytes(32),
                "reporter_salt": secrets.token_bytes(16), "reporter_auth_digest": secrets.token_bytes(32),
                "channel_id": channel.id,
                "category": rng.choice(channel.categories)["slug"], "status": status, "anonymous": True,
                "received_on": received, "acknowledged_on": acknowledged, "feedback_on": feedback,
                "closed_on": closed, "legal_hold": False, "message_counter": messages,
                "report_sealed": crypto.seal_text(case_key, REPORT, case_id=case_id, kind=case_texts.REPORT, row_id=case_id),
            })
            participants.append({
                "id": new_id(), "case_id": case_id, "user_id": user.id,
                "sealed_case_key": crypto.seal_case_key(case_key, user.public_key, case_id),
                "last_read_counter": messages if rng.random() < 0.8 else 0,
            })
            events = {"received": received, **({"acknowledged": acknowledged} if acknowledged else {}),
                      **({"feedback": feedback} if feedback else {}), **({"closed": closed} if closed else {})}
            planned = clock.plan(rules[channel.id], events, retention_months=channel.retention_months,
                                 shift_to_working_day=channel.policy.shift_to_working_day)
            for item in planned.values():
                milestones.append({"id": new_id(), "case_id": case_id, "kind": item.kind, "due_on": item.due_on,
                                   "done_on": item.done_on, "triggered_on": item.triggered_on, "extensions": []})
        for table, rows in ((Case, cases), (Participant, participants), (Milestone, milestones)):
            for start in range(0, len(rows), 5000):
                session.execute(insert(table), rows[start:start + 5000])
    engine = engine_of(app)
    if engine.dialect.name == "postgresql":
        # The steady state: autovacuum analyses (and vacuums) a table after this many new rows, within a minute.
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    return secret


def login(base: str, secret: str) -> str:
    """Log in as a browser does (form with CSRF token, password, TOTP code); returns the mk_staff cookie."""
    import pyotp

    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.request("GET", "/nl/handler/login")
    token = TOKEN.search(connection.getresponse().read().decode())
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    body = urllib.parse.urlencode({"csrf_token": token.group(1), "username": USERNAME, "password": PASSWORD,
                                   "code": pyotp.TOTP(secret).now()})
    connection.request("POST", "/nl/handler/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"})
    response = connection.getresponse()
    response.read()
    cookie = re.search(r"mk_staff=([^;]+)", response.getheader("Set-Cookie") or "")
    connection.close()
    if response.status != 302 or cookie is None:
        raise RuntimeError(f"login failed with status {response.status}")
    return cookie.group(1)


def check_inbox(url: str, headers: dict[str, str], count: int) -> None:
    """The timed page must be the real inbox with every case counted, not a redirect to the login page."""
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
        page = response.read().decode()
        final = response.url
    if final != url or f"{count:,}".replace(",", "") not in page.replace(".", "").replace(",", ""):
        raise RuntimeError(f"{url} did not show an inbox of {count} cases")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL")
    with temporary_instance() as folder, private_database(database) as url:
        env = bench_environment(Path(folder), url, MELDKLUIS_KDF="test")
        os.environ.update(env)
        with gunicorn_server(env) as base:
            print(f"{'PostgreSQL' if url else 'SQLite'}: inserting {args.cases} cases for one handler ...", flush=True)
            secret = populate(args.cases)
            headers = {"Cookie": f"mk_staff={login(base, secret)}"}
            inbox_url = f"{base}/nl/handler/"
            check_inbox(inbox_url, headers, args.cases)
            static, inbox = alternate_with_start_page(base, inbox_url, headers, args.requests, warmup=5)
    return report_p95_ratio("inbox", static, inbox, BUDGET, f"{args.cases} cases, first page")


if __name__ == "__main__":
    sys.exit(main())
