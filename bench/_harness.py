"""Shared by the bench scripts: a real gunicorn server on a temporary instance, and small statistics.

Figures are ratios taken in one run (a noisy shared machine shifts both sides alike).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_environment(instance: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["MELDKLUIS_INSTANCE"] = str(instance)
    env["MELDKLUIS_STORAGE"] = str(instance / "storage")
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    env.update(extra)
    return env


@contextlib.contextmanager
def gunicorn_server(env: dict[str, str], workers: int = 2, threads: int = 4) -> Iterator[str]:
    """Migrate, then serve the app with the deployment's gunicorn config; yields the base URL."""
    subprocess.run([str(BIN / "meldkluis"), "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/nl/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def temporary_instance() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="meldkluis-bench-")


@contextlib.contextmanager
def private_database(url: str | None) -> Iterator[str | None]:
    """None stays None (SQLite in the instance folder); a PostgreSQL URL gets a fresh schema, dropped afterwards."""
    if not url:
        yield None
        return
    from sqlalchemy import create_engine, text

    from app.config import normalize_database_url

    schema = f"mk_bench_{secrets.token_hex(6)}"
    admin = create_engine(normalize_database_url(url))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float]) -> str:
    return (f"n={len(samples)} p50={statistics.median(samples) * 1000:.1f} ms "
            f"p95={percentile(samples, 95) * 1000:.1f} ms")


def timed_get(url: str, headers: dict[str, str] | None = None) -> float:
    request = urllib.request.Request(url, headers=headers or {})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - start


def alternate_with_start_page(base: str, url: str, headers: dict[str, str], requests: int,
                              warmup: int = 3) -> tuple[list[float], list[float]]:
    """Time the static start page and `url` alternately, so drift on a shared machine hits both alike."""
    for _ in range(warmup):
        timed_get(base + "/nl/")
        timed_get(url, headers)
    static, measured = [], []
    for _ in range(requests):
        static.append(timed_get(base + "/nl/"))
        measured.append(timed_get(url, headers))
    return static, measured


def report_p95_ratio(label: str, static: list[float], measured: list[float], budget: float, detail: str) -> int:
    """Print both distributions and the p95 ratio against the budget; the exit code says whether it holds."""
    ratio = percentile(measured, 95) / percentile(static, 95)
    print(f"start page: {summary(static)}")
    print(f"{label}: {summary(measured)}  ({detail})")
    print(f"p95 ratio: {ratio:.1f}x (budget {budget:.0f}x) -> {'OK' if ratio <= budget else 'OVER BUDGET'}")
    return 0 if ratio <= budget else 1
