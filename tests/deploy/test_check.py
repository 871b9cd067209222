"""`meldkluis check`: a clean installation passes (exit 0); each problem is reported on its own (exit 1)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select, text

from app import db
from app.cli import main
from app.models import Channel, User
from app.services.checks import check_nginx
from tests.deploy.conftest import DEPLOY, free_port, render_nginx
from tests.handler.conftest import Member

ONION = "meldkluisexampleexampleexampleexampleexampleexampleexamplead.onion"


@pytest.fixture
def clean(app: Flask, cli: CliRunner, make_member: Callable[..., Member], tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """An installation with nothing to report: every channel has a reader, onion configured, shipped configs."""
    with db.session_scope(app) as session:
        slugs = tuple(session.scalars(select(Channel.slug).where(Channel.active.is_(True))))
    make_member("hanna", channels=slugs)
    monkeypatch.setenv("MELDKLUIS_ONION_ADDRESS", ONION)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("MELDKLUIS_WORKERS", raising=False)
    monkeypatch.setenv("MELDKLUIS_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = app.config["MELDKLUIS"]
    settings.storage_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(settings.instance_path, 0o700)
    nginx = render_nginx(tmp_path / "nginx-test", free_port(), free_port())
    return {"nginx": nginx, "torrc": DEPLOY / "tor" / "torrc", "instance": settings.instance_path,
            "storage": settings.storage_path}


def _check(cli: CliRunner, paths: dict[str, Path], *extra: str) -> Result:
    return cli.invoke(main, ["check", "--nginx-config", str(paths["nginx"]), "--torrc", str(paths["torrc"]), *extra])


def _problems(result: Result) -> set[str]:
    return {line.split()[1].rstrip(":") for line in result.output.splitlines() if line.startswith("PROBLEM ")}


def test_clean_installation_and_shipped_configs_pass(cli: CliRunner, clean: dict[str, Path]) -> None:
    result = _check(cli, clean)
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.output


def test_debug_mode(cli: CliRunner, clean: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    result = _check(cli, clean)
    assert result.exit_code == 1 and _problems(result) == {"debug"}


def test_secret_key_readable_by_others(cli: CliRunner, clean: dict[str, Path]) -> None:
    os.chmod(clean["instance"] / "secret_key", 0o644)
    result = _check(cli, clean)
    assert result.exit_code == 1 and _problems(result) == {"secret-key"} and "chmod 600" in result.output


def test_secret_key_too_short(cli: CliRunner, clean: dict[str, Path]) -> None:
    (clean["instance"] / "secret_key").write_text("00" * 16)
    result = _check(cli, clean)
    assert result.exit_code == 1 and _problems(result) == {"secret-key"} and "at least 32" in result.output


def test_loose_storage_permissions(cli: CliRunner, clean: dict[str, Path]) -> None:
    folder = clean["storage"] / "ab"
    folder.mkdir()
    os.chmod(folder, 0o750)  # noqa: S103 (the loose mode is what is tested)
    result = _check(cli, clean)
    assert result.exit_code == 1 and _problems(result) == {"storage-permissions"}


def test_sqlite_with_several_workers(app: Flask, cli: CliRunner, clean: dict[str, Path]) -> None:
    result = _check(cli, clean, "--workers", "3")
    if db.engine_of(app).dialect.name == "sqlite":
        assert result.exit_code == 1 and _problems(result) == {"sqlite-workers"}
    else:  # several workers are right for PostgreSQL
        assert result.exit_code == 0, result.output
    assert _check(cli, clean, "--workers", "1").exit_code == 0


def test_limits_kept_per_worker(app: Flask, cli: CliRunner, clean: dict[str, Path],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELDKLUIS_REDIS_URL", "")
    assert _check(cli, clean, "--workers", "1").exit_code == 0
    result = _check(cli, clean, "--workers", "2")
    assert result.exit_code == 1 and "limits-not-shared" in _problems(result)


def test_notifications_without_smtp(app: Flask, cli: CliRunner, clean: dict[str, Path]) -> None:
    with db.session_scope(app) as session:
        user = session.scalar(select(User).where(User.username == "hanna"))
        assert user is not None
        user.email = "hanna@example.org"
    result = _check(cli, clean)
    assert result.exit_code == 1 and _problems(result) == {"notify-without-smtp"}


def test_neither_https_nor_onion(cli: CliRunner, clean: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELDKLUIS_ONION_ADDRESS", "")
    monkeypatch.setenv("MELDKLUIS_BASE_URL", "http://meldpunt.example.org")
    result = _check(cli, clean)
    assert result.exit_code == 1 and _problems(result) == {"no-transport-security"}
    monkeypatch.setenv("MELDKLUIS_BASE_URL", "https://meldpunt.example.org")
    assert _check(cli, clean).exit_code == 0


def test_channel_without_a_reader(app: Flask, cli: CliRunner, clean: dict[str, Path]) -> None:
    with db.session_scope(app) as session:
        session.execute(text("UPDATE user_account SET active = :no WHERE username = 'hanna'"), {"no": False})
    result = _check(cli, clean)
    assert result.exit_code == 1 and _problems(result) == {"channel-without-reader"}
    assert result.output.count("channel-without-reader") >= 1


@pytest.mark.parametrize(("directive", "replacement"), [
    ("proxy_request_buffering off;", "proxy_request_buffering on;"),
    ("proxy_max_temp_file_size 0;", "proxy_max_temp_file_size 1024m;"),
    ("access_log off;", "access_log /var/log/nginx/access.log;"),
    ("client_body_timeout 20s;", ""),
    ("error_log stderr emerg;", "error_log stderr error;"),
    ('proxy_set_header Host $host;', 'proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr;'),
])
def test_nginx_config_missing_a_protection(cli: CliRunner, clean: dict[str, Path], directive: str,
                                           replacement: str) -> None:
    for name in clean["nginx"].parent.iterdir():
        body = name.read_text()
        if directive in body:
            name.write_text(body.replace(directive, replacement))
            break
    else:
        raise AssertionError(f"{directive} is not in the shipped config")
    result = _check(cli, clean)
    assert result.exit_code == 1 and _problems(result) == {"nginx-config"}
    assert check_nginx(clean["nginx"])


@pytest.mark.parametrize(("directive", "replacement"), [
    ("HiddenServicePoWDefensesEnabled 1", "HiddenServicePoWDefensesEnabled 0"),
    ("SafeLogging 1", "SafeLogging 0"),
])
def test_torrc_missing_a_protection(cli: CliRunner, clean: dict[str, Path], tmp_path: Path, directive: str,
                                    replacement: str) -> None:
    torrc = tmp_path / "torrc"
    shipped = clean["torrc"].read_text()
    assert directive in shipped
    torrc.write_text(shipped.replace(directive, replacement))
    clean["torrc"] = torrc
    result = _check(cli, clean)
    assert result.exit_code == 1 and _problems(result) == {"torrc"}
