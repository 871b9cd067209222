"""What an admin changes: accounts and invitations, channel recipients and texts, organisation texts.

An admin handles configuration only; nothing here touches a case key or content. Each change is audited.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import (
    ROLES,
    AuditEvent,
    Case,
    Channel,
    ChannelRecipient,
    HandlerSession,
    Organisation,
    Participant,
    User,
)
from app.services import accounts, notify
from app.services.staff_auth import Staff


@dataclass(frozen=True)
class Invitation:
    user: User
    token: str


def _audit(session: Session, staff: Staff, action: str, detail: str = "") -> None:
    session.add(AuditEvent(user_id=staff.user.id, case_id=None, action=action, detail=detail[:255]))


def invite(
    session: Session, staff: Staff, username: str, roles: list[str], display_name: str, email: str | None
) -> Invitation:
    """Create an account and its one-time activation link (the token is shown once, stored only hashed)."""
    user = accounts.create_user(session, username, roles, display_name=display_name, email=email or None)
    issued = accounts.issue_link(session, "invite", user)
    _audit(session, staff, "user_invited", user.id)
    return Invitation(user=user, token=issued.token)


def reinvite(session: Session, staff: Staff, user: User) -> Invitation:
    """A new activation link for an account that was never activated."""
    if user.activated:
        raise accounts.AccountError(str(_l("This account is active already.")))
    issued = accounts.issue_link(session, "invite", user)
    _audit(session, staff, "user_reinvited", user.id)
    return Invitation(user=user, token=issued.token)


def update_user(
    session: Session, staff: Staff, user: User, roles: list[str], active: bool, display_name: str, email: str | None
) -> None:
    """Change roles, name, e-mail or whether the account may log in; no admin can remove the last admin."""
    if not roles or set(roles) - set(ROLES):
        raise accounts.AccountError(str(_l("Choose at least one role: handler, compliance or admin.")))
    losing_admin = user.is_admin and ("admin" not in roles or not active)
    if losing_admin and _active_admins(session) <= 1:
        raise accounts.AccountError(str(_l("At least one active admin must remain.")))
    if (user.active and not active) or (user.is_handler and "handler" not in roles):
        stranded = cases_only_readable_by(session, user.id)
        if stranded:
            raise accounts.AccountError(str(_l(
                "%(name)s is the only active handler who can open these open cases: %(references)s. Share each "
                "case with another handler first (case page, \"Share\"), then try again.",
                name=user.display_name or user.username, references=", ".join(stranded))))
    for role in ROLES:
        setattr(user, f"is_{role}", role in roles)
    user.active = active
    user.display_name = display_name.strip() or user.username
    user.email = email or None
    if not active:
        session.execute(delete(HandlerSession).where(HandlerSession.user_id == user.id))
    _audit(session, staff, "user_updated", f"{user.id} {','.join(roles)} {'active' if active else 'inactive'}")


def cases_only_readable_by(session: Session, user_id: str) -> list[str]:
    """References of open cases whose key no active handler other than `user_id` holds.

    Taking this user's access away would leave the case unreadable while its clock runs.
    """
    others = (select(Participant.id)
              .join(User, User.id == Participant.user_id)
              .where(Participant.case_id == Case.id, User.id != user_id, User.active.is_(True),
                     User.is_handler.is_(True), User.public_key.is_not(None))
              .exists())
    return list(session.scalars(
        select(Case.reference)
        .join(Participant, Participant.case_id == Case.id)
        .where(Participant.user_id == user_id, Case.closed_on.is_(None), Case.purged_on.is_(None), ~others)
        .order_by(Case.reference)))


def channel_readers(session: Session) -> dict[str, int]:
    """Per channel id: how many active handlers with a key receive its reports (fewer than 2: a warning)."""
    rows = session.execute(
        select(ChannelRecipient.channel_id, func.count())
        .join(User, User.id == ChannelRecipient.user_id)
        .where(User.active.is_(True), User.is_handler.is_(True), User.public_key.is_not(None))
        .group_by(ChannelRecipient.channel_id))
    return {channel_id: int(count) for channel_id, count in rows}


def _active_admins(session: Session) -> int:
    return len(list(session.scalars(select(User.id).where(User.is_admin.is_(True), User.active.is_(True)))))


def set_channel(
    session: Session, staff: Staff, channel: Channel, recipient_ids: list[str], acknowledgement_nl: str,
    acknowledgement_en: str,
) -> None:
    """Who receives new cases of a channel by default, and its standard acknowledgement texts."""
    handlers = {u.id for u in session.scalars(select(User).where(User.is_handler.is_(True)))}
    wanted = [uid for uid in dict.fromkeys(recipient_ids) if uid in handlers]
    session.execute(delete(ChannelRecipient).where(ChannelRecipient.channel_id == channel.id))
    for user_id in wanted:
        session.add(ChannelRecipient(channel_id=channel.id, user_id=user_id))
    channel.acknowledgement_nl = acknowledgement_nl.strip()
    channel.acknowledgement_en = acknowledgement_en.strip()
    _audit(session, staff, "channel_updated", channel.slug)


def set_organisation(session: Session, staff: Staff, values: dict[str, str]) -> None:
    """The organisation's name and the texts shown to reporters."""
    organisation = session.get(Organisation, 1)
    if organisation is None:
        organisation = Organisation(id=1, name="")
        session.add(organisation)
    if not values.get("name", "").strip():
        raise accounts.AccountError(str(_l("The organisation needs a name.")))
    for key in ("name", "intro_nl", "intro_en", "adviser_name", "adviser_contact_nl", "adviser_contact_en"):
        setattr(organisation, key, values.get(key, "").strip())
    _audit(session, staff, "organisation_updated")


TEST_MAIL_SUBJECT = "Meldkluis: testbericht / test message"
TEST_MAIL_BODY = ("Dit is een testbericht van Meldkluis: de e-mailinstellingen werken.\n\n"
                  "This is a test message from Meldkluis: the e-mail settings work.\n")


def send_test_mail(session: Session, settings: Settings, staff: Staff) -> str:
    """Send a fixed, content-free test mail to the admin's own address; returns that address.

    Lets an admin check the SMTP settings before a real notice depends on them. Audited.
    """
    if not settings.smtp_host:
        raise accounts.AccountError(str(_l("No mail server is configured (MELDKLUIS_SMTP_HOST).")))
    address = staff.user.email
    if not address:
        raise accounts.AccountError(str(_l("Your account has no e-mail address. Add one first.")))
    try:
        notify.send_mail(settings, address, TEST_MAIL_SUBJECT, TEST_MAIL_BODY)
    except (OSError, smtplib.SMTPException) as error:
        raise accounts.AccountError(str(_l("The test mail could not be sent (%(error)s). Check the mail settings.",
                                           error=type(error).__name__))) from error
    _audit(session, staff, "smtp_test_sent")
    return address
