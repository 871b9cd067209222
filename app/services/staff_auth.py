"""Staff login (password + TOTP), staff sessions, password change and recovery.

A staff session keeps the private key only re-wrapped under a random session key that lives in the
`mk_staff` cookie ("<session id>.<base64url session key>"); the database holds just that wrap, so a copy
of the database and disk taken at rest opens nothing. Logout or idle expiry deletes the row.

For other blueprints (compliance, admin): protect a view with the role it needs and read the member::

    from app.services.staff_auth import current_staff, require_role

    @bp.get("/")
    @require_role("compliance")
    def overview() -> str:
        staff = current_staff()          # a Staff: .user, .session_id (and .private_key for handlers)
        ...

Logged out (or idle too long) -> 302 to the login page; logged in without the role -> 403. The decorator
also binds the CSRF token of `BaseForm` to the staff session (`g.csrf_binding`).
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

import pyotp
import segno
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

import crypto
from app.config import Settings
from app.db import get_session
from app.models import HandlerSession, OneTimeLink, User, utcnow
from app.services import accounts
from app.services.limits import Limits, Schedule, limits_of, process_gate
from app.services.session_cookie import parse_session_cookie, session_cookie_value

COOKIE_NAME = "mk_staff"
FREE_ATTEMPTS = 5
MAX_LOCK = timedelta(hours=1)
# The same backoff for every name typed at the login, known or not: a known account keeps it in its row,
# any other name in the limits store (app/services/limits.py), so locking tells no one which names exist.
BACKOFF = Schedule(free=FREE_ATTEMPTS, first=timedelta(minutes=1), longest=MAX_LOCK)
LOGIN_LIMIT = "staff-login"
# Argon2id at 64 MiB on an anonymous endpoint: a few at once per process, the rest wait this long, then "busy".
KDF_GATE = "staff-kdf"
KDF_WAIT_SECONDS = 10
ENROL_TTL = timedelta(minutes=15)
# Activity extends a session at most once a minute: the idle limit is counted in tens of minutes, and
# writing (and syncing to disk) on every page a handler opens would double the cost of a page.
SEEN_RESOLUTION = timedelta(minutes=1)
ISSUER = "Meldkluis"

# A login with an unknown user name still costs one password check, so timing tells nothing.
_DUMMY_HASH: dict[str, str] = {}

F = TypeVar("F", bound=Callable[..., Any])


class LoginFailed(Exception):
    """Wrong name, password or code, or a locked account: one message for all of them."""

    message = _l("Login failed. Check your user name, password and code, or wait a few minutes and try again.")


@dataclass(frozen=True)
class Staff:
    """A logged-in staff member, with their private key for this request only."""

    user: User
    session_id: str
    private_key: bytes = field(repr=False)

    def has(self, role: str) -> bool:
        return role in self.user.roles


@dataclass(frozen=True)
class StartedSession:
    """What the login view needs: the cookie value (never stored) and who logged in."""

    cookie_value: str = field(repr=False)
    user: User


@dataclass(frozen=True)
class EnrolmentNeeded:
    """The password was right but the account has no TOTP yet: enrol at `/enrol/<token>` first."""

    token: str = field(repr=False)


# --- TOTP -------------------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def totp_qr_svg(secret: str, username: str) -> str:
    """The enrolment QR code as inline SVG (no script, no external image)."""
    return str(segno.make(totp_uri(secret, username), error="m").svg_inline(scale=4, omitsize=True))


def match_totp(secret: str, code: str, now: datetime, last_counter: int | None) -> int | None:
    """The time step a code belongs to (now +-30 s), or None; a step at or before `last_counter` is refused."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for counter in (current - 1, current, current + 1):
        if last_counter is not None and counter <= last_counter:
            continue
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


# --- accounts: activation, first admin ---------------------------------------------------------------


def activate_with_totp(
    session: Session, settings: Settings, user: User, password: str, confirm: str, secret: str, code: str,
    now: datetime,
) -> str:
    """Set password, TOTP and key pair of an invited account; returns the recovery key (shown once)."""
    problems = accounts.password_problems(password, user.username)
    if password != confirm:
        problems.append(str(_l("The two passwords differ.")))
    counter = match_totp(secret, code, now, None)
    if counter is None:
        problems.append(str(_l("This code is not right. Scan the QR code again and type the current code.")))
    if problems:
        raise accounts.AccountError(" ".join(problems))
    recovery_key = accounts.activate_user(session, user, password, settings.handler_kdf)
    user.totp_secret = secret
    user.totp_last_counter = counter
    session.flush()
    return recovery_key


def use_link(session: Session, token: str, purpose: str) -> OneTimeLink:
    """The valid link for a token, or 404 (an unknown, used and expired link look the same)."""
    link = accounts.find_link(session, token, purpose)
    if link is None:
        abort(404)
    return link


def setup_first_admin(
    session: Session, settings: Settings, link: OneTimeLink, username: str, display_name: str, email: str | None,
    also_handler: bool, password: str, confirm: str, secret: str, code: str, now: datetime,
) -> str:
    """Create and activate the first admin from the setup link; returns the recovery key."""
    if accounts.has_admin(session):
        raise accounts.AccountError(str(_l("An admin exists already. Ask them for an invitation.")))
    roles = ["admin", "handler"] if also_handler else ["admin"]
    user = accounts.create_user(session, username, roles, display_name=display_name, email=email or None)
    recovery_key = activate_with_totp(session, settings, user, password, confirm, secret, code, now)
    link.used_at = now
    return recovery_key


def activate_invited(
    session: Session, settings: Settings, link: OneTimeLink, password: str, confirm: str, secret: str, code: str,
    now: datetime,
) -> str:
    """Activate the account an invitation link belongs to; returns the recovery key."""
    user = session.get(User, link.user_id)
    if user is None or user.activated:
        abort(404)
    recovery_key = activate_with_totp(session, settings, user, password, confirm, secret, code, now)
    link.used_at = now
    return recovery_key


# --- login and sessions ------------------------------------------------------------------------------


def _kdf_gate(settings: Settings) -> contextlib.AbstractContextManager[None]:
    """At most `staff_kdf_concurrency` staff Argon2id runs at once in this process (limits.Busy after a wait)."""
    return process_gate(KDF_GATE, settings.staff_kdf_concurrency, KDF_WAIT_SECONDS)


def _check_password(settings: Settings, user: User | None, password: str) -> bool:
    hasher = accounts.password_hasher(settings.handler_kdf)
    with _kdf_gate(settings):
        if user is None or user.password_hash is None:
            key = repr(settings.handler_kdf)
            if key not in _DUMMY_HASH:
                _DUMMY_HASH[key] = hasher.hash("not a password of anyone")
            with contextlib.suppress(VerificationError, InvalidHashError):
                hasher.verify(_DUMMY_HASH[key], password)
            return False
        try:
            return bool(hasher.verify(user.password_hash, password))
        except (VerificationError, InvalidHashError):
            return False


def _record_failure(user: User, now: datetime) -> None:
    user.failed_logins += 1
    lock = BACKOFF.lock_after(user.failed_logins)
    if lock is not None:
        user.locked_until = now + lock


def start_session(session: Session, user: User, private_key: bytes, now: datetime) -> StartedSession:
    """Re-wrap the private key under a fresh session key that only the returned cookie value holds."""
    session_key = crypto.new_session_key()
    row = HandlerSession(
        user_id=user.id,
        wrapped_private_key=crypto.wrap_private_key(private_key, session_key, "session"),
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    session.flush()
    return StartedSession(cookie_value=session_cookie_value(row.id, session_key), user=user)


def _unwrap_with_password(settings: Settings, user: User, password: str) -> bytes:
    assert user.kdf_salt is not None and user.private_key_by_password is not None
    with _kdf_gate(settings):
        key = crypto.derive_password_key(password, user.kdf_salt, settings.handler_kdf)
    return crypto.unwrap_private_key(user.private_key_by_password, key, "password")


def login(
    session: Session, settings: Settings, username: str, password: str, code: str, now: datetime,
    *, limits: Limits | None = None,
) -> StartedSession | EnrolmentNeeded:
    """Check name, password and TOTP code; start a session, or ask for TOTP enrolment. Raises LoginFailed.

    Every name costs the same: one gated Argon2id run, or none while the name is locked. A name that is no
    usable account counts failures and locks by the same schedule (in `limits`, the app's by default), so
    neither the answer nor the time it takes tells which names exist. Raises limits.Busy when the gate
    stays full.
    """
    purge_idle_sessions(session, settings, now)
    limits = limits or limits_of()
    name = username.strip()
    user = session.scalar(select(User).where(User.username == name))
    usable = user is not None and user.active and user.activated
    if usable:
        assert user is not None
        locked = user.locked_until is not None and user.locked_until > now
    else:
        locked = limits.locked(LOGIN_LIMIT, name)
    if locked:
        raise LoginFailed
    password_ok = _check_password(settings, user if usable else None, password)
    if user is None or not usable or not password_ok:
        if user is not None and usable:
            _record_failure(user, now)
        else:
            limits.failed(LOGIN_LIMIT, name, BACKOFF)
        raise LoginFailed
    if user.totp_secret is None:
        user.failed_logins = 0
        issued = accounts.issue_link(session, "enrol", user, ttl=ENROL_TTL)
        return EnrolmentNeeded(token=issued.token)
    counter = match_totp(user.totp_secret, code, now, user.totp_last_counter)
    if counter is None:
        _record_failure(user, now)
        raise LoginFailed
    if not _claim_totp_step(session, user, counter):
        raise LoginFailed
    user.failed_logins = 0
    user.locked_until = None
    return start_session(session, user, _unwrap_with_password(settings, user, password), now)


def _claim_totp_step(session: Session, user: User, counter: int) -> bool:
    """Record `counter` as used, atomically: of two logins with one code at once, only one gets it.

    A conditional UPDATE (row lock on PostgreSQL, write lock on SQLite) rather than read-then-write: the
    second transaction re-checks the condition after the first commits and updates nothing.
    """
    claimed = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_counter.is_(None), User.totp_last_counter < counter))
        .values(totp_last_counter=counter)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(user, "totp_last_counter", counter)
    return True


def enrol_totp(
    session: Session, settings: Settings, link: OneTimeLink, password: str, secret: str, code: str, now: datetime
) -> StartedSession:
    """Finish a first login without TOTP: confirm a code of the new secret, then start the session."""
    user = session.get(User, link.user_id)
    if user is None or user.totp_secret is not None or not _check_password(settings, user, password):
        raise LoginFailed
    counter = match_totp(secret, code, now, None)
    if counter is None:
        raise LoginFailed
    user.totp_secret = secret
    user.totp_last_counter = counter
    link.used_at = now
    return start_session(session, user, _unwrap_with_password(settings, user, password), now)


def load_staff(session: Session, settings: Settings, cookie_value: str, now: datetime) -> Staff | None:
    """The staff member of a cookie, or None; an idle session is deleted, activity extends it."""
    parsed = parse_session_cookie(cookie_value)
    if parsed is None:
        return None
    session_id, session_key = parsed
    # Every staff page starts here: the session and its user in one round trip, a commit only for a change.
    found = session.execute(
        select(HandlerSession, User).outerjoin(User, User.id == HandlerSession.user_id)
        .where(HandlerSession.id == session_id)
    ).first()
    if found is None or found[0].wrapped_private_key is None:
        return None
    row, user = found
    if (user is None or not user.active or row.last_seen_at + timedelta(minutes=settings.handler_idle_minutes) < now
            or row.created_at + timedelta(hours=settings.handler_session_max_hours) < now):
        session.delete(row)
        session.commit()
        return None
    try:
        private_key = crypto.unwrap_private_key(row.wrapped_private_key, session_key, "session")
    except crypto.DecryptionError:
        return None
    if now - row.last_seen_at >= SEEN_RESOLUTION:
        row.last_seen_at = now
        session.commit()
    return Staff(user=user, session_id=row.id, private_key=private_key)


def purge_idle_sessions(session: Session, settings: Settings, now: datetime) -> int:
    """Delete every session idle too long or past its absolute lifetime, also those whose cookie never comes
    back (at each login and nightly by `meldkluis gc`); returns how many."""
    idle = now - timedelta(minutes=settings.handler_idle_minutes)
    started = now - timedelta(hours=settings.handler_session_max_hours)
    result = session.execute(
        delete(HandlerSession).where(or_(HandlerSession.last_seen_at < idle, HandlerSession.created_at < started))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def logout(session: Session, session_id: str) -> None:
    """Destroy the server-side wrap: without it the cookie's key opens nothing."""
    session.execute(delete(HandlerSession).where(HandlerSession.id == session_id))


def change_password(
    session: Session, settings: Settings, staff: Staff, current: str, new: str, confirm: str
) -> None:
    """Re-wrap the private key under the new password; no case is re-encrypted.

    Every other session of the account ends: whoever knew the old password is logged out with it.
    """
    user = staff.user
    if not _check_password(settings, user, current):
        raise accounts.AccountError(str(_l("Your current password is not right.")))
    _set_password(settings, user, staff.private_key, new, confirm)
    session.execute(
        delete(HandlerSession).where(HandlerSession.user_id == user.id, HandlerSession.id != staff.session_id)
    )


def _set_password(settings: Settings, user: User, private_key: bytes, new: str, confirm: str) -> None:
    problems = accounts.password_problems(new, user.username)
    if new != confirm:
        problems.append(str(_l("The two passwords differ.")))
    if problems:
        raise accounts.AccountError(" ".join(problems))
    user.kdf_salt = crypto.new_salt()
    with _kdf_gate(settings):
        user.password_hash = accounts.password_hasher(settings.handler_kdf).hash(new)
        password_key = crypto.derive_password_key(new, user.kdf_salt, settings.handler_kdf)
    user.private_key_by_password = crypto.wrap_private_key(private_key, password_key, "password")


def private_key_from_recovery(user: User, recovery_key: str) -> bytes:
    """The private key unwrapped with the recovery key; AccountError for a wrong key."""
    if user.private_key_by_recovery is None:
        raise accounts.AccountError(str(_l("This account is not activated.")))
    try:
        return crypto.unwrap_private_key(
            user.private_key_by_recovery, crypto.recovery_key_to_bytes(recovery_key), "recovery"
        )
    except crypto.DecryptionError as error:
        raise accounts.AccountError(str(_l("This recovery key does not fit this account."))) from error


def restore_access(
    session: Session, settings: Settings, username: str, recovery_key: str, new: str, confirm: str,
    *, reset_totp: bool = False,
) -> User:
    """A forgotten password: the recovery key unwraps the private key, which is re-wrapped under a new password.

    Every session of the account ends; with `reset_totp` the next login enrols a new authenticator.
    """
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise accounts.AccountError(str(_l("This recovery key does not fit this account.")))
    private_key = private_key_from_recovery(user, recovery_key)
    _set_password(settings, user, private_key, new, confirm)
    user.failed_logins = 0
    user.locked_until = None
    if reset_totp:
        user.totp_secret = None
        user.totp_last_counter = None
    session.execute(delete(HandlerSession).where(HandlerSession.user_id == user.id))
    session.flush()
    return user


def private_key_file(staff: Staff, recovery_key: str) -> bytes:
    """The staff member's private key as a file for an offline machine, wrapped under their recovery key."""
    if private_key_from_recovery(staff.user, recovery_key) != staff.private_key:
        raise accounts.AccountError(str(_l("This recovery key does not fit this account.")))
    return crypto.export_private_key_file(staff.private_key, recovery_key)


# --- request helpers ---------------------------------------------------------------------------------


def settings_of_app() -> Settings:
    settings: Settings = current_app.config["MELDKLUIS"]
    return settings


def current_staff() -> Staff | None:
    """The logged-in staff member of this request (read from the cookie once per request)."""
    if "staff" not in g:
        cookie = request.cookies.get(COOKIE_NAME, "")
        g.staff = load_staff(get_session(), settings_of_app(), cookie, utcnow()) if cookie else None
        if g.staff is not None:
            g.csrf_binding = g.staff.session_id
    staff: Staff | None = g.staff
    return staff


def require_role(role: str) -> Callable[[F], F]:
    """View decorator: 302 to the login page when logged out, 403 without `role`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if staff is None:
                return redirect(url_for("handler.login"))
            if not staff.has(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def role_home(role: str) -> str | None:
    """The endpoint of a role's start page (`/<lang>/<blueprint>/`), if that blueprint has one."""
    if role == "handler":
        return "handler.inbox"
    for rule in current_app.url_map.iter_rules():
        if rule.rule == f"/<lang>/{role}/" and rule.endpoint:
            return str(rule.endpoint)
    return None


def home_endpoint(user: User) -> str:
    """Where a staff member lands after login: their inbox, else the compliance or admin start page."""
    for role in ("handler", "compliance", "admin"):
        endpoint = role_home(role)
        if role in user.roles and endpoint:
            return endpoint
    return "handler.account"


def require_staff(view: F) -> F:
    """View decorator for pages of any logged-in staff member (their own account page)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_staff() is None:
            return redirect(url_for("handler.login"))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def invited_user(session: Session, link: OneTimeLink) -> User:
    """The account a link belongs to (404 when it is gone)."""
    user = session.get(User, link.user_id) if link.user_id else None
    if user is None:
        abort(404)
    return user
