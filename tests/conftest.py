"""Shared fixtures, flaskr style: `settings`, `app`, `client`, `db_session`, `cli`.

The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL points there. The schema is
migrated once per run (in a private PostgreSQL schema, so runs never meet); after each test every
table is emptied and the shipped defaults come back with the next app.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app import create_app, db, migrate
from app.config import Settings, load_master_secret, normalize_database_url
from app.models import Base
from app.services.defaults import ensure_defaults
from crypto.params import TEST_KDF


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return normalize_database_url(url) if url.startswith(("postgres", "postgresql")) else None


@contextmanager
def empty_database(folder: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a private schema on the PostgreSQL server."""
    pg = _postgres_url()
    if pg is None:
        yield f"sqlite:///{folder / f'meldkluis-{secrets.token_hex(4)}.db'}"
        return
    schema = f"mk_test_{secrets.token_hex(6)}"
    admin = create_engine(pg)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in pg else "?"
    try:
        yield f"{pg}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this test run."""
    with empty_database(tmp_path_factory.mktemp("db")) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture
def scratch_database(tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database of the suite's kind, for migration tests."""
    with empty_database(tmp_path) as url:
        yield url


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    instance = tmp_path / "instance"
    settings = Settings(
        instance_path=instance,
        database_url=database_url,
        storage_path=instance / "storage",
        master_secret=load_master_secret(instance),
        handler_kdf=TEST_KDF,
        testing=True,
    )
    return replace(settings, **overrides) if overrides else settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    with db.session_scope(application) as session:
        ensure_defaults(session)
    yield application
    _empty_all_tables(application)
    db.engine_of(application).dispose()


def _empty_all_tables(application: Flask) -> None:
    engine = db.engine_of(application)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A database session for calling services directly (commit as the service would)."""
    with db.session_scope(app) as session:
        yield session


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Runs `meldkluis` commands against the test instance and database."""
    monkeypatch.setenv("MELDKLUIS_INSTANCE", str(settings.instance_path))
    monkeypatch.setenv("MELDKLUIS_STORAGE", str(settings.storage_path))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MELDKLUIS_KDF", "test")
    return CliRunner()


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every temporary file of this process at a folder the test can scan."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port (for browser tests); yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser). Browser tests never skip."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    """A fresh browser tab with JavaScript disabled, as Tor Browser at "Safest"."""
    context = chromium.new_context(java_script_enabled=False, accept_downloads=True)  # type: ignore[attr-defined]
    tab = context.new_page()
    yield tab
    context.close()


class FakeClock:
    """A clock that moves only when told: for limits and backoff (app/services/limits.py) without waiting."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta.total_seconds()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Redis server on a free loopback port, configured as production must run it: no persistence.

    `make test` installs Debian's redis-server when it is missing; these tests never skip.
    """
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder), "--logfile", ""],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def reader(app: Flask) -> str:
    """An activated handler who receives every channel: without one, reports are refused (nobody could
    read them). Returns the user id."""
    from sqlalchemy import select

    from app.models import Channel, ChannelRecipient
    from app.services import accounts

    with db.session_scope(app) as session:
        user = accounts.create_user(session, "lezer", ["handler"], display_name="Lezer")
        accounts.activate_user(session, user, "a long enough password 123", app.config["MELDKLUIS"].handler_kdf)
        for channel in session.scalars(select(Channel)):
            session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))
        return user.id
