"""Migrations before start: the app refuses a database schema it does not know; /health says only "ok"."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from app import create_app, migrate
from app.config import Settings
from tests.conftest import make_settings


def _stamp(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :rev"), {"rev": revision})
    engine.dispose()


def test_app_refuses_a_database_from_a_newer_version(tmp_path: Path, scratch_database: str) -> None:
    migrate.upgrade(scratch_database)
    _stamp(scratch_database, "0099_from_the_future")
    with pytest.raises(migrate.SchemaMismatch, match="0099_from_the_future.*does not know"):
        create_app(make_settings(tmp_path, scratch_database))


def test_app_refuses_an_older_or_empty_database(tmp_path: Path, scratch_database: str) -> None:
    with pytest.raises(migrate.SchemaMismatch, match="empty database.*meldkluis db upgrade"):
        create_app(make_settings(tmp_path, scratch_database))
    migrate.upgrade(scratch_database)
    migrate.downgrade(scratch_database, "base")
    with pytest.raises(migrate.SchemaMismatch, match="db upgrade"):
        create_app(make_settings(tmp_path, scratch_database))


def test_an_older_app_refuses_the_database_a_newer_one_migrated(
    tmp_path: Path, scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same refusal seen from the old release: its scripts end before the database's revision."""
    migrate.upgrade(scratch_database)
    known, heads = migrate.known_revisions()
    monkeypatch.setattr(migrate, "known_revisions", lambda: (known - heads, frozenset({"0000_older_head"})))
    with pytest.raises(migrate.SchemaMismatch, match="does not know"):
        create_app(make_settings(tmp_path, scratch_database))


def test_health_says_ok_and_nothing_else(app: Flask, settings: Settings) -> None:
    response = app.test_client().get("/health")
    assert response.status_code == 200 and response.get_data() == b"ok\n"
    assert "Server" not in response.headers and "Set-Cookie" not in response.headers
    names = {name for name, _ in response.headers}
    assert not {name for name in names if name.lower().startswith("x-")} - {"X-Content-Type-Options", "X-Frame-Options"}


def test_health_reports_an_unreachable_database_without_detail(tmp_path: Path, app: Flask) -> None:
    broken = create_app(dataclasses.replace(app.config["MELDKLUIS"]))
    from app import db

    db.engine_of(broken).dispose()
    broken.extensions["meldkluis.db"].kw["bind"] = create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    response = broken.test_client().get("/health")
    assert response.status_code == 503 and response.get_data() == b"unavailable\n"


def test_gunicorn_does_not_start_on_a_database_from_a_newer_version(tmp_path: Path, scratch_database: str) -> None:
    """The real server process: it exits (no worker boots) and says why."""
    import os
    import subprocess
    import sys

    from tests.deploy.conftest import DEPLOY, ROOT, free_port

    migrate.upgrade(scratch_database)
    _stamp(scratch_database, "0099_from_the_future")
    environment = {**os.environ, "DATABASE_URL": scratch_database, "MELDKLUIS_INSTANCE": str(tmp_path / "instance"),
                   "MELDKLUIS_WORKERS": "1"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--config", str(DEPLOY / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{free_port()}"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    # The exception's type at least (error-log filters may drop exception messages); the CLI shows the message.
    assert "SchemaMismatch" in result.stdout + result.stderr


def test_commands_refuse_an_unknown_schema_with_the_reason(
    tmp_path: Path, scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from app.cli import main

    migrate.upgrade(scratch_database)
    _stamp(scratch_database, "0099_from_the_future")
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    monkeypatch.setenv("MELDKLUIS_INSTANCE", str(tmp_path / "instance"))
    result = CliRunner().invoke(main, ["purge", "--dry-run"])
    assert result.exit_code == 1 and "0099_from_the_future" in result.output and "does not know" in result.output
