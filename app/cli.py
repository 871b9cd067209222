"""The `meldkluis` command group: database, accounts and the scheduled jobs.

Commands that need the app create it from the environment (the same settings as `make run`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

from app.config import Settings
from app.db import session_scope


def _app() -> Flask:
    from app import create_app, migrate

    try:
        return create_app()
    except migrate.SchemaMismatch as error:
        raise click.ClickException(str(error)) from error


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
    from app import migrate

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
    from app import migrate

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



# --- handler side: notifications, offline export, recovery (app/services/notify.py, export.py, staff_auth.py) ---


@main.command("notify")
def notify_command() -> None:
    """Send the queued content-free notices (run from a timer at MELDKLUIS_NOTIFY_TIMES, e.g. 08:00 and 16:00)."""
    from app.models import utcnow
    from app.services.notify import flush_notifications

    app = _app()
    with session_scope(app) as session:
        sent = flush_notifications(session, app.config["MELDKLUIS"], utcnow())
    click.echo(f"{sent} notice(s) sent")


@main.command("export-case")
@click.argument("reference")
@click.option("--user", "username", required=True, help="The handler whose key will open the bundle.")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True,
              help="Language of the labels in the opened case file.")
def export_case_command(reference: str, username: str, out_file: Path, lang: str) -> None:
    """Write an encrypted bundle of one case; open it offline with `python -m crypto.open`."""
    import os

    from app.services.export import ExportRefused, export_case

    app = _app()
    with app.app_context(), session_scope(app) as session:  # the labels are translated in the app's context
        try:
            bundle = export_case(session, app.config["MELDKLUIS"], reference.strip().upper(), username, lang)
        except ExportRefused as error:
            raise click.ClickException("no such case for this user") from error
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bundle)
    click.echo(f"bundle written to {out_file}")


@user.command("restore")
@click.argument("username")
@click.option("--reset-totp", is_flag=True, help="Also forget the authenticator; the next login enrols a new one.")
def user_restore(username: str, reset_totp: bool) -> None:
    """Restore access with the recovery key: set a new password (no case is re-encrypted)."""
    from app.services import accounts, staff_auth

    app = _app()
    recovery_key = click.prompt("Recovery key", hide_input=True)
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with app.test_request_context(), session_scope(app) as session:
        try:
            staff_auth.restore_access(session, app.config["MELDKLUIS"], username, recovery_key, password, password,
                                      reset_totp=reset_totp)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"access restored for {username}" + ("; two-step login is set up at the next login" if reset_totp else ""))


@user.command("export-key")
@click.argument("username")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
def user_export_key(username: str, out_file: Path) -> None:
    """Write the private key file for offline opening (needs the recovery key, which also locks the file)."""
    import os

    from sqlalchemy import select

    import crypto
    from app.models import User
    from app.services import accounts, staff_auth

    app = _app()
    recovery_key = click.prompt("Recovery key", hide_input=True)
    with app.test_request_context(), session_scope(app) as session:
        account = session.scalar(select(User).where(User.username == username))
        if account is None:
            raise click.ClickException("no such user")
        try:
            private_key = staff_auth.private_key_from_recovery(account, recovery_key)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from error
        data = crypto.export_private_key_file(private_key, recovery_key)
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    click.echo(f"private key file written to {out_file}")


# --- clock: deadlines, retention, legal hold (app/services/clock.py, reminders.py, retention.py) ---------


@main.command("maintenance")
def maintenance_command() -> None:
    """Reorder reporter-written tables by random id, set stored file times to the day and repair the compliance
    tally and the cases' nearest deadlines if they drifted (nightly: purge, gc, maintenance, backup)."""
    from app.services.maintenance import (
        reorder_reporter_tables,
        repair_next_deadlines,
        repair_tally,
        settle_stored_files,
    )

    app = _app()
    settings: Settings = app.config["MELDKLUIS"]
    with session_scope(app) as session:
        drifted = repair_tally(session)
        stale = repair_next_deadlines(session)
        tables = reorder_reporter_tables(session)
        files = settle_stored_files(session, settings.storage_path)
    click.echo(f"{len(tables)} table(s) rewritten in random-id order" if tables
               else "tables: nothing to do (SQLite keeps them in random-id order: WITHOUT ROWID)")
    click.echo(f"{files} stored file(s) dated to the day")
    click.echo(f"compliance tally: {drifted} figure(s) differed from the cases; rebuilt" if drifted
               else "compliance tally: in step with the cases")
    click.echo(f"nearest deadlines: {stale} case(s) recomputed from their milestones" if stale
               else "nearest deadlines: in step with the milestones")


@main.command("deadlines")
@click.option("--days", default=7, show_default=True, type=click.IntRange(0, 366),
              help="List open milestones due within this many days (and every overdue one).")
@click.option("--no-mail", is_flag=True, help="Only list; send and record no reminders.")
def deadlines_command(days: int, no_mail: bool) -> None:
    """List due and overdue milestones, mail content-free reminders; exit 1 when something is overdue."""
    from app.services import clock, reminders

    app = _app()
    settings: Settings = app.config["MELDKLUIS"]
    today = clock.today()
    with app.app_context(), session_scope(app) as session:
        run = reminders.run_deadlines(session, settings, today, days, send=not no_mail)
    for item in run.items:
        state = "OVERDUE" if item.days_left < 0 else f"due in {item.days_left} day(s)"
        click.echo(f"{item.due_on.isoformat()}  {item.reference}  {item.channel}  {item.kind}  {state}")
    click.echo(f"{len(run.items)} milestone(s) listed, {run.overdue} overdue; "
               f"{run.handler_mails} reminder mail(s) and {run.summary_mails} summary mail(s) sent.")
    if not no_mail and not settings.smtp_host:
        click.echo("No SMTP server configured (MELDKLUIS_SMTP_HOST): no mail sent.", err=True)
    for username in run.failures:
        click.echo(f"could not mail {username}; will retry on the next run", err=True)
    sys.exit(1 if run.overdue else 0)


@main.command("purge")
@click.option("--dry-run", is_flag=True, help="Only list the cases that would be purged.")
def purge_command(dry_run: bool) -> None:
    """Destroy the content and keys of closed cases past their channel's retention period (not on legal hold).

    Also drops idle reporter sessions, whose expiry time would otherwise outlive the visit.
    """
    from app.models import utcnow
    from app.services import clock, mailbox, retention

    app = _app()
    settings: Settings = app.config["MELDKLUIS"]
    with app.app_context(), session_scope(app) as session:
        purged = retention.purge(session, settings.storage_path, clock.today(), dry_run=dry_run)
        if not dry_run:
            mailbox.delete_expired_sessions(session, settings, utcnow())
    verb = "would purge" if dry_run else "purged"
    for candidate in purged:
        click.echo(f"{verb} {candidate.reference} (closed {candidate.closed_on.isoformat()}, "
                   f"retention ended {candidate.purge_after.isoformat()})")
    click.echo(f"{len(purged)} case(s) {verb}.")


@main.command("gc")
def gc_command() -> None:
    """Nightly: remove ciphertext files without a row (older than the longest upload) and expired staff sessions."""
    from app.models import utcnow
    from app.services import sweep

    app = _app()
    with app.test_request_context(), session_scope(app) as session:
        result = sweep.sweep(session, app.config["MELDKLUIS"], utcnow())
    click.echo(f"removed {result.orphan_files} file(s) without a row ({result.kept_young_files} younger kept), "
               f"{result.staff_sessions} expired staff session(s).")


@main.command("legal-hold")
@click.argument("reference")
@click.option("--reason", required=True, help="Why (shown to compliance; never the report's content).")
@click.option("--clear", is_flag=True, help="Lift the legal hold instead of setting it.")
def legal_hold_command(reference: str, reason: str, clear: bool) -> None:
    """Put a case on legal hold (purge skips it) or lift the hold; both are audited."""
    from sqlalchemy import select

    from app.models import Case
    from app.services import retention

    app = _app()
    with app.app_context(), session_scope(app) as session:
        case = session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
        if case is None:
            raise click.ClickException(f"no case with reference {reference}")
        try:
            if clear:
                retention.clear_legal_hold(session, case, reason, None)
            else:
                retention.set_legal_hold(session, case, reason, None)
        except retention.LegalHoldError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"legal hold {'lifted from' if clear else 'set on'} {case.reference}")


@main.group("case")
def case_group() -> None:
    """Change a case's track (the same actions as on the case page; each audited, the reporter told)."""


def _open_for_handler(session: Any, settings: Settings, reference: str, username: str, password: str) -> Any:
    """The case opened with a handler's key: the reporter's mailbox message is sealed under the case key."""
    from sqlalchemy import select

    import crypto
    from app.models import Case
    from app.services import case_track, cases

    user = case_track.staff_user(session, username)
    case = session.scalar(select(Case).where(Case.reference == reference.strip().upper(), Case.purged_on.is_(None)))
    if user is None or case is None or user.kdf_salt is None or user.private_key_by_password is None:
        raise click.ClickException("no such case for this handler")
    try:
        key = crypto.derive_password_key(password, user.kdf_salt, settings.handler_kdf)
        private_key = crypto.unwrap_private_key(user.private_key_by_password, key, "password")
        return user, cases.open_as_handler(session, case, user.id, private_key)
    except (crypto.DecryptionError, cases.NotAParticipant) as error:
        raise click.ClickException("no such case for this handler, or a wrong password") from error


_handler_option = click.option("--user", "username", required=True, help="The handler (a participant of the case).")
_reason_option = click.option("--reason", required=True, help="Why; goes to the reporter and the audit trail.")
_lang_option = click.option("--lang", type=click.Choice(["nl", "en"]), default="nl",
                            help="Language of the message to the reporter.")


@case_group.command("move")
@click.argument("reference")
@click.argument("channel")
@_handler_option
@_reason_option
@_lang_option
def case_move(reference: str, channel: str, username: str, reason: str, lang: str) -> None:
    """Move a case to another channel; its clock follows that channel's policy from the original receipt."""
    from app.services import case_track, clock

    app = _app()
    settings: Settings = app.config["MELDKLUIS"]
    password = click.prompt("Password", hide_input=True)
    with app.test_request_context(f"/{lang}/"), session_scope(app) as session:
        user, opened = _open_for_handler(session, settings, reference, username, password)
        try:
            target = case_track.move_case(session, opened, user.id, channel, reason, clock.today())
        except case_track.TrackRefused as error:
            raise click.ClickException(str(error)) from error
        promised = clock.next_promised_date(session, opened.case)
        click.echo(f"{opened.case.reference} moved to {target.slug}; next date "
                   f"{promised.isoformat() if promised else '-'}")


@case_group.command("extend")
@click.argument("reference")
@click.argument("milestone")
@click.argument("extension")
@_handler_option
@_reason_option
@_lang_option
def case_extend(reference: str, milestone: str, extension: str, username: str, reason: str, lang: str) -> None:
    """Apply a policy's extension to an open milestone (Awb 9:11: decide committee | decide extension)."""
    from app.services import case_track, clock

    app = _app()
    settings: Settings = app.config["MELDKLUIS"]
    password = click.prompt("Password", hide_input=True)
    with app.test_request_context(f"/{lang}/"), session_scope(app) as session:
        user, opened = _open_for_handler(session, settings, reference, username, password)
        try:
            extended = case_track.extend_deadline(session, opened, user.id, milestone, extension, reason,
                                                  clock.today())
        except case_track.TrackRefused as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"{opened.case.reference} {milestone} now due {extended.due_on.isoformat()}")


@main.group("channel")
def channel_group() -> None:
    """Channel settings."""


@channel_group.command("policy")
@click.argument("channel")
@click.argument("policy")
def channel_policy(channel: str, policy: str) -> None:
    """Give a channel another deadline policy (audited); its open cases follow it from their receipt."""
    from sqlalchemy import select

    from app.models import Channel
    from app.services import case_track

    app = _app()
    with app.test_request_context("/en/"), session_scope(app) as session:
        found = session.scalar(select(Channel).where(Channel.slug == channel))
        if found is None:
            raise click.ClickException(f"no channel {channel}")
        try:
            case_track.set_channel_policy(session, None, found, policy)
        except case_track.TrackRefused as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"channel {channel} now follows {policy}")


# --- operations: backup, restore, check (app/services/backup.py, checks.py) --------------------------


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write one archive: database (rows sorted by random id), encrypted attachments, secret, checksums."""
    from app.db import make_engine
    from app.services.backup import BackupError, create_backup

    settings = Settings.from_environment()
    engine = make_engine(settings.database_url)
    try:
        summary = create_backup(settings, engine, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()
    click.echo(f"backup written to {path}: {summary.rows} row(s), {summary.files} attachment file(s), "
               f"schema {summary.schema_revision}. It holds the instance secret: keep it as safe as the server.")


@main.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Restore a backup into an empty installation (empty database and storage folder), then migrate."""
    from app.services.backup import BackupError, restore_backup

    try:
        summary = restore_backup(Settings.from_environment(), path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"restored {summary.rows} row(s) and {summary.files} attachment file(s) "
               f"(schema {summary.schema_revision}, now migrated to the newest)")


@main.command("check")
@click.option("--workers", type=int, default=None, help="gunicorn workers (default: as deploy/gunicorn.conf.py).")
@click.option("--nginx-config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="nginx's main config (default: MELDKLUIS_NGINX_CONFIG, else /etc/nginx/nginx.conf if present).")
@click.option("--torrc", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tor's config (default: MELDKLUIS_TORRC, else /etc/tor/torrc if present).")
def check_command(workers: int | None, nginx_config: Path | None, torrc: Path | None) -> None:
    """Report what would harm a reporter before it does; exit 1 when anything is found (for monitoring)."""
    import os

    from app.config import default_workers
    from app.db import make_engine
    from app.services.checks import Deployment, run_checks

    def located(given: Path | None, variable: str, usual: str) -> Path | None:
        if given is not None:
            return given
        if os.environ.get(variable):
            return Path(os.environ[variable])
        return Path(usual) if Path(usual).exists() else None

    from app.config import InstanceError

    try:
        settings = Settings.from_environment()
    except InstanceError as error:  # the app refuses to start with this secret key, and says why
        click.echo(f"PROBLEM secret-key: {error}")
        sys.exit(1)
    deployment = Deployment(
        debug=os.environ.get("FLASK_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"},
        workers=workers if workers is not None else default_workers(),
        nginx_config=located(nginx_config, "MELDKLUIS_NGINX_CONFIG", "/etc/nginx/nginx.conf"),
        torrc=located(torrc, "MELDKLUIS_TORRC", "/etc/tor/torrc"),
    )
    engine = make_engine(settings.database_url)
    try:
        findings = run_checks(settings, engine, deployment)
    finally:
        engine.dispose()
    for finding in findings:
        click.echo(f"PROBLEM {finding.code}: {finding.message}")
    skipped = [name for name, path in (("nginx", deployment.nginx_config), ("tor", deployment.torrc)) if path is None]
    if skipped:
        click.echo(f"not checked (no config found): {', '.join(skipped)}")
    click.echo(f"{len(findings)} problem(s) found" if findings else "no problems found")
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    sys.exit(main())
