"""Submit and mailbox-login budgets at 20 concurrent reporters, on gunicorn with PostgreSQL.

Sides, each run by `--clients` threads that each do `--per-client` operations back to back on their own
keep-alive connection, in alternating rounds (form, submit, form, login, form, submit, ...) so drift on a
shared machine hits every side alike:

- form:    GET the submit form (the reporter's cheapest dynamic page, and the one every submission follows);
- submit:  POST a text report as a browser encodes it (multipart/form-data, Sec-Fetch-Site: same-origin) and
           check that a receipt code and passphrase come back; the CSRF token is the one this client's form
           GET gave (tokens are signed and reusable within their lifetime);
- login:   POST the mailbox login with a receipt code and passphrase made by the submit side; expect the 303
           to the mailbox with its session cookie.

Server CPU is read from /proc: the gunicorn workers of this server, and the PostgreSQL backends that serve
them (found by their application_name in pg_stat_activity), so other work on the machine is not counted.

Budgets (`../shared/design/ARCHITECTURE.md`): a submission's server CPU <= 4x a form GET's; submissions per
second >= 1/4 of form GETs per second; login p95 <= 2x the form GET's p95. The login rate limit (an abuse
control, not a cost) is lifted for the run. The database is a private schema on DATABASE_URL (default
postgresql://postgres@127.0.0.1/test), created and dropped by the bench. Exits non-zero when over budget.

    .venv/bin/python bench/submit.py [--clients 20] [--per-client 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import runpy
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (  # noqa: E402
    ROOT,
    bench_environment,
    gunicorn_server,
    percentile,
    private_database,
    temporary_instance,
)

CPU_BUDGET = 4.0
THROUGHPUT_BUDGET = 0.25
LOGIN_BUDGET = 2.0
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1/test"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECIPIENT = re.compile(r'name="recipients" type="checkbox" value="([^"]+)"')
RECEIPT_CODE = re.compile(rb'id="receipt-code">([^<]+)<')
PASSPHRASE = re.compile(rb'id="passphrase">([^<]+)<')
CHANNEL = "misstand"
CATEGORY = "fraude"


@dataclass(frozen=True)
class Side:
    name: str
    wall: float
    latencies: list[float]
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    def cpu_ms(self, group: str) -> float:
        return self.cpu[group] / len(self.latencies) * 1000

    @property
    def server_cpu_ms(self) -> float:
        return self.cpu_ms("gunicorn") + self.cpu_ms("postgres")

    def line(self) -> str:
        return (f"{self.name:<7} n={len(self.latencies):<4} {self.rate:6.1f}/s  "
                f"p50={statistics.median(self.latencies) * 1000:6.1f} ms  "
                f"p95={percentile(self.latencies, 95) * 1000:6.1f} ms  server CPU {self.server_cpu_ms:5.1f} ms/op "
                f"(gunicorn {self.cpu_ms('gunicorn'):5.1f} + PostgreSQL {self.cpu_ms('postgres'):4.1f})")


def gunicorn_shape() -> tuple[int, int]:
    """Workers and threads exactly as deployed."""
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    return int(config["workers"]), int(config["threads"])


def add_recipient() -> None:
    """One activated handler receiving the channel, so a submission seals the case key to a handler as in use."""
    from sqlalchemy import select

    from app import create_app
    from app.db import engine_of, session_scope
    from app.models import Channel, ChannelRecipient
    from app.services import accounts

    app = create_app()
    with app.test_request_context(), session_scope(app) as session:
        user = accounts.create_user(session, "bench-handler", ["handler"], display_name="Bench")
        accounts.activate_user(session, user, "a long enough password 123", app.config["MELDKLUIS"].handler_kdf)
        channel = session.scalar(select(Channel).where(Channel.slug == CHANNEL))
        assert channel is not None
        session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))
    engine_of(app).dispose()


@dataclass
class Reporter:
    """One keep-alive HTTP connection per client thread, as a browser would hold, and what it was given."""

    base: str
    token: str = ""
    recipients: list[str] = field(default_factory=list)
    receipts: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.connect()

    def connect(self) -> None:
        """A fresh connection (gunicorn closes idle keep-alive connections after a few seconds)."""
        host, port = self.base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=120)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
        """Send on the kept connection; if the server closed it meanwhile (gunicorn drops keep-alive
        connections that waited longer than its keepalive setting), resend once on a new one, as browsers do."""
        try:
            return self._send(method, path, body, headers or {})
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            self.close()
            self.connect()
            return self._send(method, path, body, headers or {})

    def _send(self, method: str, path: str, body: bytes | None,
              headers: dict[str, str]) -> tuple[int, bytes, http.client.HTTPResponse]:
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read(), response

    def close(self) -> None:
        self.connection.close()


def report_body(token: str, recipients: list[str]) -> tuple[bytes, str]:
    """The submit form as a browser encodes it, including the empty file input."""
    boundary = "----MeldkluisBench" + secrets.token_hex(8)
    fields = [("csrf_token", token), ("category", CATEGORY),
              ("what", "Er worden facturen dubbel betaald aan een leverancier. " * 12),
              ("when", "Sinds het voorjaar."), ("where", "Inkoop"), ("who", "Een teamleider"),
              ("how_known", "Ik zag het in de administratie."), ("ongoing", "yes"), ("evidence", "Facturen."),
              *[("recipients", r) for r in recipients], ("identity", "")]
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename=""\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n\r\n")
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


def form_get(reporter: Reporter) -> None:
    status, page, _ = reporter.request("GET", f"/nl/melden/{CHANNEL}")
    html = page.decode()
    token = TOKEN.search(html)
    if status != 200 or token is None:
        raise RuntimeError(f"submit form: status {status}")
    reporter.token, reporter.recipients = token.group(1), RECIPIENT.findall(html)


def submit_post(reporter: Reporter) -> None:
    if not reporter.token:
        form_get(reporter)
    body, content_type = report_body(reporter.token, reporter.recipients)
    status, page, _ = reporter.request("POST", f"/nl/melden/{CHANNEL}", body, {
        "Content-Type": content_type, "Content-Length": str(len(body)), "Sec-Fetch-Site": "same-origin"})
    code, words = RECEIPT_CODE.search(page), PASSPHRASE.search(page)
    if status != 200 or code is None or words is None:
        raise RuntimeError(f"submission: status {status}")
    reporter.receipts.append((code.group(1).decode(), words.group(1).decode()))


def login_post(reporter: Reporter) -> None:
    code, words = reporter.receipts.pop()
    body = urllib.parse.urlencode({"csrf_token": reporter.token, "receipt_code": code, "passphrase": words}).encode()
    status, _, response = reporter.request("POST", "/nl/brievenbus/inloggen", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"})
    if status != 303 or "mk_mailbox=" not in (response.getheader("Set-Cookie") or ""):
        raise RuntimeError(f"mailbox login: status {status}")


class CpuMeter:
    """CPU seconds used by this server's gunicorn processes and by the PostgreSQL backends serving them."""

    def __init__(self, port: str, database_url: str, application_name: str) -> None:
        from sqlalchemy import create_engine

        from app.config import normalize_database_url

        self.port = port
        self.application_name = application_name
        self.engine = create_engine(normalize_database_url(database_url))
        self.tick = os.sysconf("SC_CLK_TCK")

    def _backends(self) -> list[int]:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            return [int(pid) for pid in connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": self.application_name}).scalars()]

    def _used(self, pid: int | str) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.tick

    def sample(self) -> dict[str, float]:
        gunicorn = 0.0
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmdline.read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "gunicorn" in text and f"127.0.0.1:{self.port}" in text:
                gunicorn += self._used(cmdline.parent.name)
        return {"gunicorn": gunicorn, "postgres": sum(self._used(pid) for pid in self._backends())}


def run_side(name: str, reporters: list[Reporter], per_client: int, operation: Callable[[Reporter], None],
             meter: CpuMeter) -> Side:
    """Every reporter in its own thread doing `per_client` operations back to back (after one untimed)."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start_line = threading.Barrier(len(reporters) + 1)

    def work(reporter: Reporter) -> None:
        try:
            reporter.close()
            reporter.connect()
            operation(reporter)  # warm the connection and the worker outside the timed part
            start_line.wait()
            for _ in range(per_client):
                began = time.perf_counter()
                operation(reporter)
                with lock:
                    latencies.append(time.perf_counter() - began)
        except BaseException as error:  # noqa: BLE001 - reported below, the bench fails
            with lock:
                errors.append(error)
            with contextlib.suppress(threading.BrokenBarrierError):
                start_line.abort()

    threads = [threading.Thread(target=work, args=(reporter,)) for reporter in reporters]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        start_line.wait()
    cpu_before = meter.sample()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    cpu = {group: used - cpu_before[group] for group, used in meter.sample().items()}
    if errors:
        raise RuntimeError(f"{name}: {len(errors)} client(s) failed, first: {errors[0]!r}")
    return Side(name, wall, latencies, cpu)


def merge(name: str, sides: list[Side]) -> Side:
    return Side(name, sum(s.wall for s in sides), [x for s in sides for x in s.latencies],
                {group: sum(s.cpu[group] for s in sides) for group in sides[0].cpu})


def verdict(holds: bool) -> str:
    return "OK" if holds else "OVER BUDGET"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    workers, threads = gunicorn_shape()
    database = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE
    if not database.startswith(("postgres://", "postgresql://", "postgresql+")):
        print("bench/submit.py measures PostgreSQL: set DATABASE_URL to a PostgreSQL server", file=sys.stderr)
        return 2
    os.environ.pop("MELDKLUIS_KDF", None)  # production settings, never the test ones
    application_name = f"mk_bench_{secrets.token_hex(4)}"
    with temporary_instance() as folder, private_database(database) as url:
        assert url is not None
        url += f"&application_name={application_name}"
        # Abuse limits are lifted: they cap a flood, the bench measures cost.
        lifted = "100000 per minute"
        env = bench_environment(Path(folder), url, MELDKLUIS_SUBMIT_LIMIT=lifted, MELDKLUIS_LOGIN_UNKNOWN_LIMIT=lifted)
        os.environ.update(env)
        print(f"gunicorn {workers} workers x {threads} threads, {args.clients} clients x {args.per_client} "
              f"operations x {args.rounds} rounds, {os.cpu_count()} CPUs", flush=True)
        with gunicorn_server(env, workers=workers, threads=threads) as base:
            add_recipient()
            meter = CpuMeter(base.rsplit(":", 1)[1], database, application_name)
            reporters = [Reporter(base) for _ in range(args.clients)]
            forms, submits, logins = [], [], []
            for _ in range(args.rounds):
                forms.append(run_side("form", reporters, args.per_client, form_get, meter))
                submits.append(run_side("submit", reporters, args.per_client, submit_post, meter))
                forms.append(run_side("form", reporters, args.per_client, form_get, meter))
                logins.append(run_side("login", reporters, args.per_client, login_post, meter))
            for reporter in reporters:
                reporter.close()
            meter.engine.dispose()
    form, submit, login = merge("form", forms), merge("submit", submits), merge("login", logins)
    print(form.line() + "   (GET submit form)")
    print(submit.line() + "   (POST text report)")
    print(login.line() + "   (POST mailbox login)")
    cpu_ratio = submit.server_cpu_ms / form.server_cpu_ms
    rate_ratio = submit.rate / form.rate
    login_ratio = percentile(login.latencies, 95) / percentile(form.latencies, 95)
    print(f"submit server CPU per operation: {cpu_ratio:.2f}x the form GET (budget <= {CPU_BUDGET:.0f}x) -> "
          f"{verdict(cpu_ratio <= CPU_BUDGET)}")
    print(f"submissions per second: {rate_ratio:.2f}x form GETs per second (budget >= {THROUGHPUT_BUDGET}x) -> "
          f"{verdict(rate_ratio >= THROUGHPUT_BUDGET)}")
    print(f"mailbox login p95: {login_ratio:.2f}x the form GET's p95 (budget <= {LOGIN_BUDGET:.0f}x) -> "
          f"{verdict(login_ratio <= LOGIN_BUDGET)}")
    holds = cpu_ratio <= CPU_BUDGET and rate_ratio >= THROUGHPUT_BUDGET and login_ratio <= LOGIN_BUDGET
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
