"""A staff member for the staff-page browser tests: every role, a reader of every channel, logged in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto
from app.config import Settings
from app.models import Channel, ChannelRecipient, User, utcnow
from app.services import accounts, staff_auth

PASSWORD = "a long enough password 123"


def all_roles_staff(session: Session, settings: Settings) -> tuple[User, str]:
    """"Alle Rollen" (handler, compliance and admin), recipient of every channel, and a live session cookie."""
    user = accounts.create_user(session, "alle", ["handler", "compliance", "admin"], display_name="Alle Rollen")
    accounts.activate_user(session, user, PASSWORD, settings.handler_kdf)
    for channel in session.scalars(select(Channel)):
        if session.get(ChannelRecipient, (channel.id, user.id)) is None:
            session.add(ChannelRecipient(channel_id=channel.id, user_id=user.id))
    session.flush()
    assert user.kdf_salt is not None and user.private_key_by_password is not None
    key = crypto.derive_password_key(PASSWORD, user.kdf_salt, settings.handler_kdf)
    private_key = crypto.unwrap_private_key(user.private_key_by_password, key, "password")
    return user, staff_auth.start_session(session, user, private_key, utcnow()).cookie_value
