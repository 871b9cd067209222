"""`meldkluis check`: what would harm a reporter or lose a report, found before it does.

Each check returns findings (a stable code for monitoring and a sentence for the operator); the command
exits 1 when there is any. The checks read settings, files and the database; they change nothing.
"""

from __future__ import annotations

import glob
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app import migrate
from app.config import Settings
from app.models import Channel, ChannelRecipient, User
from app.services import clock, tally


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


@dataclass(frozen=True)
class Deployment:
    """What the settings do not say: how the app is run and where the front ends' configs are."""

    debug: bool = False
    workers: int = 1
    nginx_config: Path | None = None
    torrc: Path | None = None


def _loose(path: Path) -> bool:
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def check_settings(settings: Settings, deployment: Deployment) -> list[Finding]:
    findings: list[Finding] = []
    if deployment.debug:
        findings.append(Finding("debug", "debug mode is on: tracebacks with request data reach the browser; "
                                         "unset FLASK_DEBUG"))
    for folder in (settings.instance_path, settings.storage_path):
        if not folder.exists():
            continue
        loose = [p for p in [folder, *folder.rglob("*")] if _loose(p)]
        if loose:
            findings.append(Finding("storage-permissions", f"{len(loose)} path(s) under {folder} are open to "
                                                           f"other users (e.g. {loose[0]}): chmod -R go= {folder}"))
    sqlite = settings.database_url.startswith("sqlite")
    if sqlite and deployment.workers > 1:
        findings.append(Finding("sqlite-workers", f"SQLite with {deployment.workers} worker processes: writes "
                                                  "collide and each worker keeps its own backoff; use one worker "
                                                  "(MELDKLUIS_WORKERS=1) or PostgreSQL"))
    if deployment.workers > 1 and not settings.redis_url:
        findings.append(Finding("limits-not-shared", "limits and mailbox backoff are kept per worker: set "
                                                     "MELDKLUIS_REDIS_URL (Redis without persistence)"))
    if not settings.base_url.startswith("https://") and not settings.onion_address:
        findings.append(Finding("no-transport-security", "neither HTTPS (MELDKLUIS_BASE_URL) nor an onion address "
                                                         "(MELDKLUIS_ONION_ADDRESS) is configured"))
    return findings


def check_database(session: Session, settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    readers = (
        select(ChannelRecipient.channel_id)
        .join(User, User.id == ChannelRecipient.user_id)
        .where(User.active.is_(True), User.is_handler.is_(True), User.public_key.is_not(None))
    )
    for slug in session.scalars(select(Channel.slug).where(Channel.active.is_(True), Channel.id.not_in(readers))):
        findings.append(Finding("channel-without-reader", f"channel {slug!r} has no active handler who can read "
                                                          "its reports: add a recipient or deactivate it"))
    if not settings.smtp_host:
        waiting = session.scalar(select(User.username).where(User.active.is_(True), User.email.is_not(None),
                                                             User.email != "").limit(1))
        if waiting is not None:
            findings.append(Finding("notify-without-smtp", "staff have e-mail notifications (e.g. "
                                                           f"{waiting}) but no SMTP server is configured "
                                                           "(MELDKLUIS_SMTP_HOST): no notice will leave"))
    drifted = tally.drift(session.connection())
    if drifted:
        findings.append(Finding("tally-drift", f"{drifted} figure(s) of the compliance tally differ from the cases "
                                               "(changed by SQL outside the app?): run `meldkluis maintenance`, "
                                               "which rebuilds it"))
    stale = clock.out_of_step(session)
    if stale:
        findings.append(Finding("next-deadline-drift", f"{len(stale)} case(s) show a nearest deadline in the inbox "
                                                       "that their milestones do not give (changed by SQL outside "
                                                       "the app?): run `meldkluis maintenance`, which recomputes it"))
    return findings


def _nginx_text(path: Path, seen: set[Path] | None = None) -> str:
    """The config with its `include`s inlined (relative includes resolve against the main file's folder)."""
    seen = seen if seen is not None else set()
    if path in seen:
        return ""
    seen.add(path)
    text = re.sub(r"#[^\n]*", "", path.read_text())
    parts = [text]
    for pattern in re.findall(r"^\s*include\s+([^;]+);", text, re.MULTILINE):
        pattern = pattern.strip().strip("'\"")
        if not os.path.isabs(pattern):
            pattern = str(path.parent / pattern)
        for name in sorted(glob.glob(pattern)):
            parts.append(_nginx_text(Path(name), seen))
    return "\n".join(parts)


NGINX_REQUIRED = {
    r"\bproxy_request_buffering\s+off\s*;": "uploads are buffered to disk in plaintext (set proxy_request_buffering off)",
    r"\baccess_log\s+off\s*;": "the access log records visitors (set access_log off)",
    r"\bclient_header_timeout\s+\w+\s*;": "no client_header_timeout: slow clients can hold connections",
    r"\bclient_body_timeout\s+\w+\s*;": "no client_body_timeout: slow uploads can hold the app's threads",
    r"\blimit_conn\s+\w+\s+\d+\s*;": "no limit_conn: slow clients can take every application thread",
    r"(\bproxy_buffering\s+off\s*;|\bproxy_max_temp_file_size\s+0\s*;)":
        "decrypted downloads can be spooled to disk (set proxy_max_temp_file_size 0 or proxy_buffering off)",
}
NGINX_FORBIDDEN = {
    r"\$remote_addr|\$proxy_add_x_forwarded_for|\$http_user_agent":
        "the config passes or logs the client's address or browser",
    r"\berror_log\s+[^\s;]+(\s+(debug|info|notice|warn|error|crit))?\s*;":
        "error_log below `alert` writes client addresses (use `error_log stderr emerg;`)",
}


def check_nginx(path: Path) -> list[Finding]:
    if not path.exists():
        return [Finding("nginx-config", f"nginx config {path} not found")]
    text = _nginx_text(path)
    findings = [Finding("nginx-config", f"{path}: {problem}") for pattern, problem in NGINX_REQUIRED.items()
                if not re.search(pattern, text)]
    findings += [Finding("nginx-config", f"{path}: {problem}") for pattern, problem in NGINX_FORBIDDEN.items()
                 if re.search(pattern, text)]
    return findings


def check_torrc(path: Path) -> list[Finding]:
    if not path.exists():
        return [Finding("torrc", f"torrc {path} not found")]
    options: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition(" ")
            options[key.lower()] = value.strip()
    findings: list[Finding] = []
    if "hiddenservicedir" not in options:
        findings.append(Finding("torrc", f"{path}: no onion service (HiddenServiceDir)"))
    if options.get("hiddenservicepowdefensesenabled") != "1":
        findings.append(Finding("torrc", f"{path}: proof-of-work defence off (HiddenServicePoWDefensesEnabled 1)"))
    if options.get("safelogging", "1") not in ("1", "relay"):
        findings.append(Finding("torrc", f"{path}: SafeLogging is off: addresses may reach Tor's log"))
    if options.get("hiddenservicenonanonymousmode", "0") != "0":
        findings.append(Finding("torrc", f"{path}: single-hop (non-anonymous) onion service mode is on"))
    return findings


def run_checks(settings: Settings, engine: Engine, deployment: Deployment) -> list[Finding]:
    """Every check; the database ones only when the schema is the one this version knows."""
    findings = check_settings(settings, deployment)
    try:
        migrate.check_schema(engine)
    except migrate.SchemaMismatch as error:
        findings.append(Finding("schema", str(error)))
    else:
        with Session(engine) as session:
            findings += check_database(session, settings)
    if deployment.nginx_config is not None:
        findings += check_nginx(deployment.nginx_config)
    if deployment.torrc is not None:
        findings += check_torrc(deployment.torrc)
    return findings
