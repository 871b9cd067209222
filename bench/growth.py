"""Inbox, case list, compliance overview and register at 10,000 and 100,000 cases; the nightly jobs too.

One handler is a participant of every case (the inbox budget is "10,000 cases for one handler"). The cases
(bench/_fixtures.py: five years of history, milestones planned by the clock, keys really sealed) are bulk
inserted in two steps, 10,000 and then 90,000 more, and after each step:

- pages, each timed alternately with the static start page (so drift on a shared machine hits both):
  the inbox (first page, nearest deadline first), the case list (closed cases, page 2), the compliance
  overview (this year by month, with the due milestones) and the register (this year, page 2);
- jobs, run in this process (their work, not the interpreter's start; CPU of this process and its PostgreSQL
  backend, wall time beside it): the deadline run of `meldkluis deadlines --no-mail`, `meldkluis purge`
  (0.5% of the cases are a week past retention) and `meldkluis gc` (one case in 100 has a stored file; its
  items are the files it checked). CPU time comes in 10 ms ticks, so each job is run until its runs used
  0.5 s (at least 3 runs; the purge rolled back and its files put back between runs) and the figures are
  per run.

Budgets (`../shared/design/ARCHITECTURE.md`): inbox p95 <= 3x the start page's at 10,000 cases; compliance
overview p95 <= 10x at 100,000; every page's median (as a multiple of the start page's, so the machine's mood
cancels) at most 1.5x from 10,000 to 100,000 cases; jobs linear or better (CPU ratio <= the data ratio, or the
ratio of the items handled where that is larger).
Exits non-zero when a budget is missed.

    .venv/bin/python bench/growth.py [--small 10000] [--large 100000] [--requests 40]
    DATABASE_URL=postgresql://postgres@127.0.0.1/test .venv/bin/python bench/growth.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fixtures import insert_cases, settle, staff_account  # noqa: E402
from _harness import (  # noqa: E402
    alternate_with_start_page,
    bench_environment,
    gunicorn_server,
    percentile,
    private_database,
    summary,
    temporary_instance,
)

INBOX_BUDGET = 3.0
OVERVIEW_BUDGET = 10.0
GROWTH_BUDGET = 1.5
# Each job is run until its runs used this much CPU (50 ticks of 10 ms: a tick is 2% of the figure).
MIN_JOB_CPU = 0.5
MIN_JOB_RUNS = 3
MAX_JOB_RUNS = 500


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    role: str  # whose cookie: "handler" or "compliance"


def pages(year: int) -> list[Page]:
    return [
        Page("inbox", "/nl/handler/", "handler"),
        Page("case list", "/nl/handler/?status=closed&page=2", "handler"),
        Page("compliance overview", f"/nl/compliance/?period=month&year={year}", "compliance"),
        Page("register", f"/nl/compliance/register?year={year}&page=2", "compliance"),
    ]


def check_page(url: str, headers: dict[str, str]) -> None:
    """The timed page must be the real page, not a redirect to the login page or an error."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as response:
        response.read()
        if response.url != url:
            raise RuntimeError(f"{url} redirected to {response.url}")


@dataclass(frozen=True)
class JobRun:
    runs: int
    wall: float  # seconds per run
    cpu: float  # seconds per run, of this process and of its PostgreSQL backend: what the job itself used
    items: int


def _cpu_seconds(session: Any) -> float:
    """CPU used so far by this process and, on PostgreSQL, by the backend serving `session`."""
    used = time.process_time()
    if session.get_bind().dialect.name == "postgresql":
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


class StoredFiles:
    """Hard links to every stored file, so that files a rolled-back purge removed can be put back."""

    def __init__(self, storage_root: Path) -> None:
        self.storage_root = storage_root
        self.kept = storage_root.parent / "purge-rehearsal"
        self.kept.mkdir()
        for path in storage_root.rglob("*"):
            if path.is_file():
                os.link(path, self.kept / path.name)

    def restore(self) -> None:
        for path in self.kept.iterdir():
            target = self.storage_root / path.name[:2] / path.name
            if not target.exists():
                os.link(path, target)

    def drop(self) -> None:
        shutil.rmtree(self.kept)


def time_job(app: Any, job: Any, *, rehearse: StoredFiles | None = None) -> JobRun:
    """Run a nightly job as its command runs it (one session), until `MIN_JOB_RUNS` runs used `MIN_JOB_CPU`.

    CPU time comes in 10 ms ticks: a job of 30 ms run once is measured to +-33%. The idempotent jobs are run
    again as they are; the purge (`rehearse`) is run and rolled back with its removed files put back, so each
    run does the same work, and a last run is committed. Each run's time ends before its commit, as before.
    """
    from app.db import session_scope

    runs = items = 0
    cpu = wall = 0.0
    while True:
        enough = (runs >= MIN_JOB_RUNS and cpu >= MIN_JOB_CPU) or runs >= MAX_JOB_RUNS
        commit = rehearse is None or enough
        with session_scope(app) as session:
            cpu_before = _cpu_seconds(session)
            began = time.perf_counter()
            items = job(session)
            session.flush()
            wall += time.perf_counter() - began
            cpu += _cpu_seconds(session) - cpu_before
            runs += 1
            if not commit:
                session.rollback()
        if not commit:
            rehearse.restore()  # type: ignore[union-attr]
        elif (runs >= MIN_JOB_RUNS and cpu >= MIN_JOB_CPU) or runs >= MAX_JOB_RUNS:
            return JobRun(runs, wall / runs, cpu / runs, items)


def time_jobs(app: Any, today: date) -> dict[str, JobRun]:
    """Each nightly job: CPU and wall time per run, and the items it handled.

    The verdict uses CPU: the wall time of a job on a machine shared with other work measures that work too.
    """
    from app.models import utcnow
    from app.services import reminders, retention, sweep

    settings = app.config["MELDKLUIS"]

    def gc(session: Any) -> int:
        swept = sweep.sweep(session, settings, utcnow())
        return sum(1 for path in settings.storage_path.rglob("*") if path.is_file()) + swept.orphan_files

    runs: dict[str, JobRun] = {}
    with app.test_request_context():
        runs["deadlines"] = time_job(
            app, lambda session: len(reminders.run_deadlines(session, settings, today, 7, send=False).items))
        stored = StoredFiles(settings.storage_path)
        try:
            runs["purge"] = time_job(
                app, lambda session: len(retention.purge(session, settings.storage_path, today)), rehearse=stored)
        finally:
            stored.drop()
        runs["gc"] = time_job(app, gc)
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL")
    ratios: dict[int, dict[str, float]] = {}  # p95 / start page p95
    medians: dict[int, dict[str, float]] = {}  # p50 / start page p50
    jobs: dict[int, dict[str, JobRun]] = {}
    with temporary_instance() as folder, private_database(database) as url:
        env = bench_environment(Path(folder), url, MELDKLUIS_KDF="test")
        os.environ.update(env)
        with gunicorn_server(env) as base:
            from app import create_app
            from app.db import engine_of, session_scope
            from app.services import clock

            app = create_app()
            today = clock.today()
            settings = app.config["MELDKLUIS"]
            with app.test_request_context(), session_scope(app) as session:
                handler = staff_account(session, settings, "bench-handler", ["handler"])
                officer = staff_account(session, settings, "bench-compliance", ["compliance"])
            cookies = {"handler": handler.cookie, "compliance": officer.cookie}
            inserted = 0
            for size in (args.small, args.large):
                print(f"{'PostgreSQL' if url else 'SQLite'}: {size} cases for one handler (inserting "
                      f"{size - inserted}) ...", flush=True)
                began = time.perf_counter()
                with app.test_request_context(), session_scope(app) as session:
                    insert_cases(session, size - inserted, handler, today, seed=size,
                                 storage_root=settings.storage_path)
                settle(engine_of(app))
                print(f"  inserted in {time.perf_counter() - began:.0f} s", flush=True)
                inserted = size
                ratios[size], medians[size] = {}, {}
                for page in pages(today.year):
                    headers = {"Cookie": f"mk_staff={cookies[page.role]}"}
                    check_page(base + page.path, headers)
                    static, measured = alternate_with_start_page(base, base + page.path, headers, args.requests)
                    ratios[size][page.name] = percentile(measured, 95) / percentile(static, 95)
                    medians[size][page.name] = statistics.median(measured) / statistics.median(static)
                    print(f"  {page.name:<20} {summary(measured)}; start page {summary(static)}; "
                          f"ratio p50 {medians[size][page.name]:.1f}x p95 {ratios[size][page.name]:.1f}x", flush=True)
                jobs[size] = time_jobs(app, today)
                for name, run in jobs[size].items():
                    print(f"  job {name:<16} per run: CPU {run.cpu * 1000:.1f} ms, wall {run.wall * 1000:.1f} ms "
                          f"({run.items} item(s); {run.runs} runs)", flush=True)
            engine_of(app).dispose()
    small, large = args.small, args.large
    holds = True

    def verdict(ok: bool) -> str:
        nonlocal holds
        holds = holds and ok
        return "OK" if ok else "OVER BUDGET"

    inbox, overview = ratios[small]["inbox"], ratios[large]["compliance overview"]
    print(f"inbox at {small} cases: p95 {inbox:.1f}x the start page (budget <= {INBOX_BUDGET:.0f}x) -> "
          f"{verdict(inbox <= INBOX_BUDGET)}")
    print(f"compliance overview at {large} cases: p95 {overview:.1f}x the start page "
          f"(budget <= {OVERVIEW_BUDGET:.0f}x) -> {verdict(overview <= OVERVIEW_BUDGET)}")
    # A page's growth is its cost relative to the start page's at both sizes; the medians are compared (the
    # p95 of a 5 ms page on a shared machine is mostly the machine), the p95s are printed beside them.
    for name in ratios[small]:
        growth = medians[large][name] / medians[small][name]
        print(f"growth {name:<20} {medians[small][name]:5.1f}x -> {medians[large][name]:5.1f}x the start page (p50): "
              f"{growth:.2f}x (budget <= {GROWTH_BUDGET}x) -> {verdict(growth <= GROWTH_BUDGET)}   "
              f"[p95: {ratios[small][name]:.1f}x -> {ratios[large][name]:.1f}x]")
    data_ratio = large / small
    for name in jobs[small]:
        before, after = jobs[small][name], jobs[large][name]
        growth = after.cpu / before.cpu
        # Linear: in the cases, or in what the job handled when that grew faster (purge: the cases due).
        bound = max(data_ratio, after.items / before.items if before.items else 0.0)
        print(f"growth job {name:<16} CPU per run {before.cpu * 1000:.1f} ms ({before.items} items) -> "
              f"{after.cpu * 1000:.1f} ms ({after.items}): {growth:.1f}x for {data_ratio:.0f}x the cases (budget: "
              f"linear, <= {bound:.1f}x) -> {verdict(growth <= bound)}   "
              f"[wall: {before.wall * 1000:.1f} ms -> {after.wall * 1000:.1f} ms]")
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
