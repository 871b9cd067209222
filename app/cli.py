"""The `meldkluis` command group: database, accounts and the scheduled jobs.

Commands that need the app create it from the environment (the same settings as `make run`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask

from app import migrate
from app.config import Settings
from app.db import session_scope


def _app() -> Flask:
    from app import create_app

    return create_app()


@click.group()
def main() -> None:
    """Meldkluis: anonymous, end-to-end-encrypted reporting."""


@main.group()
def db() -> None:
    """Database schema (Alembic migrations are the only source of the schema)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Upgrade the schema and add the shipped defaults that are missing."""
    settings = Settings.from_environment()
    migrate.upgrade(settings.database_url, revision)
    if revision == "head":
        from app.services.defaults import ensure_defaults

        with session_scope(_app()) as session:
            ensure_defaults(session)
    click.echo("database is up to date")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (`base` removes everything)."""
    migrate.downgrade(Settings.from_environment().database_url, revision)


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(["handler", "compliance", "admin"]))
@click.option("--display-name", default="")
@click.option("--email", default=None)
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--link", "with_link", is_flag=True, help="Print a one-time activation link instead of setting a password.")
def user_add(
    username: str, roles: tuple[str, ...], display_name: str, email: str | None, password_file: Path | None,
    with_link: bool,
) -> None:
    """Create an account: with a password (prompt or --password-file), or with a one-time link."""
    from app.services import accounts

    app = _app()
    settings: Settings = app.config["MELDKLUIS"]
    password = None
    if not with_link:
        if password_file is not None:
            password = password_file.read_text().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    # Operator commands speak English (the request context only selects the language of messages).
    with app.test_request_context("/en/"), session_scope(app) as session:
        try:
            account = accounts.create_user(session, username, list(roles), display_name=display_name, email=email)
            if password is None:
                issued = accounts.issue_link(session, "invite", account)
                click.echo(f"Activation link (valid once, 48 hours): {settings.base_url}/nl/handler/activate/{issued.token}")
                return
            recovery_key = accounts.activate_user(session, account, password, settings.handler_kdf)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"created {username} ({', '.join(roles)}); two-factor login is set up at the first login.")
    click.echo("Recovery key (shown once; write it down and keep it offline):")
    click.echo(recovery_key)


@main.command("setup-link")
@click.option("--if-no-admin", is_flag=True, help="Do nothing when an admin exists.")
def setup_link(if_no_admin: bool) -> None:
    """Print a one-time link that creates the first admin account."""
    from app.services import accounts

    app = _app()
    settings: Settings = app.config["MELDKLUIS"]
    with session_scope(app) as session:
        if accounts.has_admin(session):
            if if_no_admin:
                return
            raise click.ClickException("an admin exists already; admins invite others from the admin pages")
        issued = accounts.issue_link(session, "setup")
    click.echo("No admin account exists yet. Create the first one here (valid once, 48 hours):", err=True)
    click.echo(f"  {settings.base_url}/nl/handler/setup/{issued.token}", err=True)


def register_app_commands(app: Flask) -> None:
    """Make the same commands reachable as `flask --app app ...` for developers."""
    app.cli.add_command(main, name="meldkluis")


if __name__ == "__main__":
    sys.exit(main())
