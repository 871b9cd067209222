"""All models, importable from one place (Alembic's env.py reads Base.metadata from here)."""

from app.models.attachment import Attachment
from app.models.audit import AuditEvent
from app.models.base import Base, new_id, utcnow
from app.models.case import STATUSES, Case, CaseExclusion, Participant, ReporterSession
from app.models.channel import Channel, ChannelRecipient
from app.models.message import MESSAGE_KINDS, Message, Note
from app.models.milestone import Milestone, ReminderSent, open_deadline
from app.models.notification import PendingNotification
from app.models.organisation import Organisation
from app.models.policy import DeadlinePolicy
from app.models.tally import TallyDays, TallyDue, TallyMonth
from app.models.user import ROLES, HandlerSession, OneTimeLink, User

__all__ = [
    "MESSAGE_KINDS",
    "ROLES",
    "STATUSES",
    "Attachment",
    "AuditEvent",
    "Base",
    "Case",
    "CaseExclusion",
    "Channel",
    "ChannelRecipient",
    "DeadlinePolicy",
    "HandlerSession",
    "Message",
    "Milestone",
    "Note",
    "OneTimeLink",
    "Organisation",
    "Participant",
    "PendingNotification",
    "ReminderSent",
    "ReporterSession",
    "TallyDays",
    "TallyDue",
    "TallyMonth",
    "User",
    "new_id",
    "open_deadline",
    "utcnow",
]
