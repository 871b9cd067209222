"""The value of a session cookie, for staff (`mk_staff`) and reporters (`mk_mailbox`) alike.

"<session id>.<base64url session key>": the session key is the only copy of the key that unwraps the
session's private key; the database keeps just the wrap, so a copy of it opens nothing.
"""

from __future__ import annotations

import base64
import binascii

SESSION_KEY_BYTES = 32


def session_cookie_value(session_id: str, session_key: bytes) -> str:
    encoded = base64.urlsafe_b64encode(session_key).rstrip(b"=").decode("ascii")
    return f"{session_id}.{encoded}"


def parse_session_cookie(value: str) -> tuple[str, bytes] | None:
    """(session id, session key), or None for anything malformed."""
    session_id, _, encoded = value.partition(".")
    if not session_id.isalnum() or not encoded:
        return None
    try:
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return None
    return (session_id, key) if len(key) == SESSION_KEY_BYTES else None
