"""Staff accounts (handler, compliance, admin), their one-time links and their sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, new_id, utcnow

ROLES = ("handler", "compliance", "admin")


class User(Base):
    """A staff member. A person may hold several roles.

    The X25519 private key is stored only wrapped: under a key derived from the password
    (`private_key_by_password`, Argon2id with `kdf_salt`) and under the recovery key
    (`private_key_by_recovery`). Accounts without a password are invited but not activated.
    """

    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    is_handler: Mapped[bool] = mapped_column(Boolean, default=False)
    is_compliance: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    kdf_salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    private_key_by_password: Mapped[bytes | None] = mapped_column(LargeBinary)
    private_key_by_recovery: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def roles(self) -> list[str]:
        return [role for role in ROLES if getattr(self, f"is_{role}")]

    @property
    def activated(self) -> bool:
        return self.password_hash is not None and self.public_key is not None


class OneTimeLink(Base):
    """A setup or invitation link: only a hash of its token is stored; valid once, until it expires."""

    __tablename__ = "one_time_link"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # setup | invite
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HandlerSession(Base):
    """A logged-in staff member: the private key re-wrapped under a key that only the cookie holds."""

    __tablename__ = "handler_session"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
