"""`meldkluis db upgrade`, `user add` and `setup-link` against the test instance."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from app.cli import main
from app.models import OneTimeLink, User
from app.services.accounts import password_hasher
from crypto.params import TEST_KDF


def test_db_upgrade_is_repeatable(cli: CliRunner) -> None:
    for _ in range(2):
        result = cli.invoke(main, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_user_add_with_password_file_makes_wrapped_keys(cli: CliRunner, tmp_path: Path, db_session: Session) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("a sensible long passphrase\n")
    result = cli.invoke(main, ["user", "add", "kim", "--role", "handler", "--role", "admin",
                               "--password-file", str(password_file)])
    assert result.exit_code == 0, result.output
    recovery_key = result.output.strip().splitlines()[-1]
    user = db_session.scalar(select(User).where(User.username == "kim"))
    assert user is not None and user.roles == ["handler", "admin"]
    assert user.public_key and user.private_key_by_password and user.private_key_by_recovery and user.kdf_salt
    assert password_hasher(TEST_KDF).verify(user.password_hash or "", "a sensible long passphrase")
    # Both wraps open to the same private key, which matches the stored public key.
    by_password = crypto.unwrap_private_key(
        user.private_key_by_password,
        crypto.derive_password_key("a sensible long passphrase", user.kdf_salt, TEST_KDF),
        "password",
    )
    by_recovery = crypto.unwrap_private_key(
        user.private_key_by_recovery, crypto.recovery_key_to_bytes(recovery_key), "recovery"
    )
    assert by_password == by_recovery
    assert crypto.public_key_of(by_password) == user.public_key
    # The password is not stored anywhere in clear.
    assert b"sensible" not in (user.password_hash or "").encode()


def test_user_add_refuses_weak_password_and_duplicates(cli: CliRunner, tmp_path: Path) -> None:
    weak = tmp_path / "weak"
    weak.write_text("short")
    result = cli.invoke(main, ["user", "add", "sam", "--role", "handler", "--password-file", str(weak)])
    assert result.exit_code != 0 and "12" in result.output
    strong = tmp_path / "strong"
    strong.write_text("another long passphrase")
    assert cli.invoke(main, ["user", "add", "sam", "--role", "handler", "--password-file", str(strong)]).exit_code == 0
    again = cli.invoke(main, ["user", "add", "sam", "--role", "handler", "--password-file", str(strong)])
    assert again.exit_code != 0 and "taken" in again.output


def test_user_add_with_link_prints_one_time_link(cli: CliRunner, db_session: Session) -> None:
    result = cli.invoke(main, ["user", "add", "noor", "--role", "compliance", "--link"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().rsplit("/", 1)[-1]
    links = db_session.scalars(select(OneTimeLink)).all()
    assert len(links) == 1 and links[0].purpose == "invite"
    assert token.encode() not in links[0].token_hash  # only a hash is stored


def test_setup_link_only_without_admin(cli: CliRunner, tmp_path: Path) -> None:
    first = cli.invoke(main, ["setup-link", "--if-no-admin"])
    assert first.exit_code == 0 and "/handler/setup/" in first.output
    password_file = tmp_path / "pw"
    password_file.write_text("a sensible long passphrase")
    cli.invoke(main, ["user", "add", "root", "--role", "admin", "--password-file", str(password_file)])
    second = cli.invoke(main, ["setup-link", "--if-no-admin"])
    assert second.exit_code == 0 and second.output == ""
