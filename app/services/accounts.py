"""Staff accounts: creation, activation (key pair and wraps), passwords and one-time links.

Login, TOTP and sessions build on this in app/services/staff_auth.py.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

import crypto
from app.models import ROLES, OneTimeLink, User, utcnow
from crypto.params import KdfParams

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
LINK_TTL = timedelta(hours=48)


class AccountError(ValueError):
    """A user-facing problem with an account operation (the message is safe to show)."""


def password_hasher(params: KdfParams) -> PasswordHasher:
    """argon2-cffi hasher for the stored login hash, with the same cost as the key derivation."""
    return PasswordHasher(time_cost=params.opslimit, memory_cost=max(8, params.memlimit // 1024), parallelism=1)


# zxcvbn's estimate of the guesses an attacker needs (dictionaries of common passwords, names, words,
# keyboard patterns, dates, l33t). 10^10 guesses at the login hash's cost (Argon2id, 64 MiB) take a
# well-equipped attacker years per account; below it, a password is refused.
MIN_GUESSES_LOG10 = 10.0
ESTIMATE_CHARS = 72  # zxcvbn's limit; what follows only adds strength
PRODUCT_WORDS = ("meldkluis", "melden", "klokkenluider", "integriteit", "vertrouwenspersoon")


def password_problems(password: str, username: str = "") -> list[str]:
    """Length bounds plus a strength estimate (NIST 800-63B style: no composition rules)."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(str(_l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(str(_l("Use at most %(n)s characters.", n=MAX_PASSWORD_LENGTH)))
    if problems:
        return problems
    if username and username.lower() in password.lower():
        problems.append(str(_l("This password is too common or contains your user name.")))
    elif zxcvbn(password[:ESTIMATE_CHARS], user_inputs=[username, *PRODUCT_WORDS])[
            "guesses_log10"] < MIN_GUESSES_LOG10:
        problems.append(str(_l("This password is too easy to guess. Use a longer sentence or several words "
                               "that do not belong together.")))
    return problems


def create_user(
    session: Session, username: str, roles: list[str], *, display_name: str = "", email: str | None = None
) -> User:
    """Create an account that is not yet activated (no password, no keys)."""
    username = username.strip()
    if not username or len(username) > 64:
        raise AccountError(str(_l("A user name needs 1 to 64 characters.")))
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(str(_l("This user name is already taken.")))
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise AccountError(str(_l("Choose at least one role: handler, compliance or admin.")))
    user = User(username=username, display_name=display_name or username, email=email)
    for role in ROLES:
        setattr(user, f"is_{role}", role in roles)
    session.add(user)
    session.flush()
    return user


def activate_user(session: Session, user: User, password: str, kdf: KdfParams) -> str:
    """Set the password and make the X25519 key pair; returns the recovery key, shown exactly once.

    The private key is stored wrapped twice: under Argon2id(password) and under the recovery key.
    """
    problems = password_problems(password, user.username)
    if problems:
        raise AccountError(" ".join(problems))
    keypair = crypto.generate_keypair()
    recovery_key = crypto.new_recovery_key()
    user.kdf_salt = crypto.new_salt()
    user.password_hash = password_hasher(kdf).hash(password)
    user.public_key = keypair.public
    user.private_key_by_password = crypto.wrap_private_key(
        keypair.private, crypto.derive_password_key(password, user.kdf_salt, kdf), "password"
    )
    user.private_key_by_recovery = crypto.wrap_private_key(
        keypair.private, crypto.recovery_key_to_bytes(recovery_key), "recovery"
    )
    session.flush()
    return recovery_key


def has_admin(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.is_admin.is_(True)).limit(1)) is not None


@dataclass(frozen=True)
class IssuedLink:
    token: str
    link: OneTimeLink


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue_link(session: Session, purpose: str, user: User | None = None, ttl: timedelta = LINK_TTL) -> IssuedLink:
    """A one-time link token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    link = OneTimeLink(
        token_hash=_token_hash(token), purpose=purpose, user_id=user.id if user else None, expires_at=utcnow() + ttl
    )
    session.add(link)
    session.flush()
    return IssuedLink(token=token, link=link)


def find_link(session: Session, token: str, purpose: str) -> OneTimeLink | None:
    """The unused, unexpired link for this token, or None (the caller marks it used when done)."""
    link = session.scalar(select(OneTimeLink).where(OneTimeLink.token_hash == _token_hash(token)))
    if link is None or link.purpose != purpose or link.used_at is not None or link.expires_at <= utcnow():
        return None
    return link
