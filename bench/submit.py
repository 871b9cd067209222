"""Submit budget: a text submission vs (the reporter key derivation it must do + the static start page).

Both sides run in one go at the same concurrency (20 client threads by default) against one gunicorn
server (workers and threads from deploy/gunicorn.conf.py) on PostgreSQL, with the production reporter key derivation (keyed BLAKE2b):

- submit:   GET the submit form (for its CSRF token), then POST a text report as a browser does
            (multipart/form-data, Sec-Fetch-Site: same-origin) and check that a receipt comes back;
- baseline: one `crypto.derive_reporter_keys(...)` in a process pool sized like the gunicorn
            workers (so it gets the same cores), then one GET of the start page from the same server.

Rounds alternate (baseline, submit, baseline, submit, ...) so drift on a shared machine hits both sides.
Prints throughput and latency p50/p95 of both, and the ratio of time per operation (wall time / operations,
i.e. inverse throughput); budget <= 1.5x. Exits non-zero when over budget or when a submission fails.

The database is a private schema on DATABASE_URL (default postgresql://postgres@127.0.0.1/test), created and
dropped by the bench.

    .venv/bin/python bench/submit.py [--clients 20] [--per-client 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import concurrent.futures
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
from collections.abc import Callable
from dataclasses import dataclass
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

BUDGET = 1.5
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1/test"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECIPIENT = re.compile(r'name="recipients" type="checkbox" value="([^"]+)"')
CHANNEL = "misstand"
CATEGORY = "fraude"


@dataclass(frozen=True)
class Side:
    name: str
    wall: float
    latencies: list[float]
    cpu: dict[str, float]

    @property
    def per_operation(self) -> float:
        return self.wall / len(self.latencies)

    def line(self) -> str:
        return (f"{self.name:<9} n={len(self.latencies):<4} {len(self.latencies) / self.wall:6.1f} ops/s  "
                f"{self.per_operation * 1000:6.1f} ms/op  p50={statistics.median(self.latencies) * 1000:6.1f} ms  "
                f"p95={percentile(self.latencies, 95) * 1000:6.1f} ms")

    def cpu_line(self) -> str:
        per_op = {group: seconds / len(self.latencies) * 1000 for group, seconds in self.cpu.items()}
        return f"{self.name:<9} CPU ms/op: " + "  ".join(f"{group} {ms:5.1f}" for group, ms in per_op.items())


def gunicorn_shape() -> tuple[int, int]:
    """Workers and threads exactly as deployed."""
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    return int(config["workers"]), int(config["threads"])


def add_recipient() -> None:
    """One activated handler receiving the channel, so a submission seals the case key to a handler as in use."""
    from sqlalchemy import select

    from app import create_app
    from app.db import session_scope
    from app.models import Channel, ChannelRecipient
    from app.services import accounts

    app = create_app()
    with app.test_request_context(), session_scope(app) as session:
        user = accounts.create_user(session, "bench-handler", ["handler"], display_name="Bench")
        accounts.activate_user(session, user, "a long enough password 123", app.config["MELDKLUIS"].handler_kdf)
        channel = session.scalar(select(Channel).where(Channel.slug == CHANNEL))
        assert channel is not None
        session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))


class Client:
    """One keep-alive HTTP connection per client thread, as a browser would hold."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=120)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        return response.status, response.read()

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


def submit_once(client: Client) -> None:
    status, page = client.request("GET", f"/nl/melden/{CHANNEL}")
    html = page.decode()
    token = TOKEN.search(html)
    if status != 200 or token is None:
        raise RuntimeError(f"submit form: status {status}")
    body, content_type = report_body(token.group(1), RECIPIENT.findall(html))
    status, page = client.request("POST", f"/nl/melden/{CHANNEL}", body, {
        "Content-Type": content_type, "Content-Length": str(len(body)), "Sec-Fetch-Site": "same-origin"})
    if status != 200 or b'id="receipt-code"' not in page:
        raise RuntimeError(f"submission: status {status}")


def _kdf_job(_: int) -> None:
    import crypto

    crypto.derive_reporter_keys(crypto.new_passphrase(), crypto.new_mailbox_salt())


def baseline_once(client: Client, pool: concurrent.futures.ProcessPoolExecutor) -> None:
    pool.submit(_kdf_job, 0).result()
    status, _page = client.request("GET", "/nl/")
    if status != 200:
        raise RuntimeError(f"start page: status {status}")


def run_side(name: str, base: str, clients: int, per_client: int, operation: Callable[[Client], None]) -> Side:
    """`clients` threads, each doing `per_client` operations back to back on its own connection."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start_line = threading.Barrier(clients + 1)

    def work() -> None:
        client = Client(base)
        try:
            operation(client)  # warm the connection and the worker outside the timed part
            start_line.wait()
            for _ in range(per_client):
                began = time.perf_counter()
                operation(client)
                with lock:
                    latencies.append(time.perf_counter() - began)
        except BaseException as error:  # noqa: BLE001 - reported below, the bench fails
            with lock:
                errors.append(error)
            with contextlib.suppress(threading.BrokenBarrierError):
                start_line.abort()
        finally:
            client.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        start_line.wait()
    port = base.rsplit(":", 1)[1]
    cpu_before = cpu_seconds(port)
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    cpu = {group: used - cpu_before[group] for group, used in cpu_seconds(port).items()}
    if errors:
        raise RuntimeError(f"{name}: {len(errors)} client(s) failed, first: {errors[0]}")
    return Side(name, wall, latencies, cpu)


def merge(name: str, sides: list[Side]) -> Side:
    return Side(name, sum(s.wall for s in sides), [x for s in sides for x in s.latencies],
                {group: sum(s.cpu[group] for s in sides) for group in sides[0].cpu})


def cpu_seconds(port: str) -> dict[str, float]:
    """CPU time used so far by: gunicorn (master and workers), this bench's KDF pool, this bench's client
    threads, and every PostgreSQL process on the machine (others' work included: read it as an upper bound)."""
    tick = os.sysconf("SC_CLK_TCK")
    groups = {"gunicorn": 0.0, "kdf-pool": 0.0, "client": 0.0, "postgres": 0.0}
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == me:
            groups["client"] += used
        elif "gunicorn" in cmdline and f"127.0.0.1:{port}" in cmdline:
            groups["gunicorn"] += used
        elif ppid == me:
            groups["kdf-pool"] += used
        elif cmdline.startswith("postgres"):
            groups["postgres"] += used
    return groups


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
    with temporary_instance() as folder, private_database(database) as url:
        env = bench_environment(Path(folder), url)
        os.environ.update(env)
        print(f"gunicorn {workers} workers x {threads} threads, reporter keys by keyed BLAKE2b (no Argon2id), "
              f"{args.clients} clients, "
              f"{os.cpu_count()} CPUs", flush=True)
        with gunicorn_server(env, workers=workers, threads=threads) as base, \
                concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
            add_recipient()
            list(pool.map(_kdf_job, range(workers * 2)))  # start and warm the pool's processes
            baselines, submits = [], []
            for _ in range(args.rounds):
                baselines.append(run_side("baseline", base, args.clients, args.per_client,
                                          lambda client: baseline_once(client, pool)))
                submits.append(run_side("submit", base, args.clients, args.per_client, submit_once))
    baseline, submit = merge("baseline", baselines), merge("submit", submits)
    ratio = submit.per_operation / baseline.per_operation
    print(baseline.line() + "   (reporter KDF in a process pool + start page)")
    print(submit.line() + "   (GET form + POST text report)")
    print(baseline.cpu_line())
    print(submit.cpu_line())
    print(f"p50 ratio: {statistics.median(submit.latencies) / statistics.median(baseline.latencies):.2f}x")
    print(f"time per operation ratio: {ratio:.2f}x (budget {BUDGET}x) -> {'OK' if ratio <= BUDGET else 'OVER BUDGET'}")
    return 0 if ratio <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
