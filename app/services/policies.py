"""Editing deadline policies (admin): validate the rules, save, and let open cases follow the change."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Case, Channel, DeadlinePolicy
from app.services import clock

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


@dataclass(frozen=True)
class PolicyInput:
    name: str
    description: str
    rules_json: str
    shift_to_working_day: bool
    slug: str = ""  # only for a new policy


class PolicyRejected(ValueError):
    """Every problem with what the admin entered, as messages in their language."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("policy rejected")
        self.problems = problems


def rules_as_json(policy: DeadlinePolicy) -> str:
    return json.dumps(policy.rules, indent=2, ensure_ascii=False)


def _check(session: Session, data: PolicyInput, policy: DeadlinePolicy | None) -> list[dict[str, object]]:
    problems: list[str] = []
    if not data.name.strip() or len(data.name) > 200:
        problems.append(str(_l("Give the policy a name of at most 200 characters.")))
    if policy is None:
        if not _SLUG.match(data.slug):
            problems.append(str(_l("The short name may contain only lower-case letters, digits and hyphens.")))
        elif session.scalar(select(DeadlinePolicy.id).where(DeadlinePolicy.slug == data.slug)) is not None:
            problems.append(str(_l("A policy with this short name exists already.")))
    try:
        raw = json.loads(data.rules_json)
    except json.JSONDecodeError as error:
        problems.append(str(_l("The rules are not valid JSON (line %(line)s, column %(column)s): %(reason)s.",
                               line=error.lineno, column=error.colno, reason=error.msg)))
        raise PolicyRejected(problems) from None
    try:
        clock.parse_rules(raw)
    except clock.PolicyError as error:
        problems.extend(error.problems)
    if problems:
        raise PolicyRejected(problems)
    rules: list[dict[str, object]] = raw
    return rules


def save_policy(session: Session, data: PolicyInput, policy: DeadlinePolicy | None, user_id: str) -> DeadlinePolicy:
    """Create or update a policy; the open cases of the channels that use it are recomputed."""
    rules = _check(session, data, policy)
    if policy is None:
        policy = DeadlinePolicy(slug=data.slug, builtin=False)
        session.add(policy)
    policy.name = data.name.strip()
    policy.description = data.description.strip()
    policy.rules = rules
    policy.shift_to_working_day = data.shift_to_working_day
    session.flush()
    session.add(AuditEvent(user_id=user_id, action="policy_saved", detail=policy.slug))
    for case in session.scalars(
        select(Case).join(Channel, Channel.id == Case.channel_id)
        .where(Channel.policy_id == policy.id, Case.closed_on.is_(None))
    ):
        clock.recompute(session, case)
    session.flush()
    return policy


def channels_using(session: Session, policy: DeadlinePolicy) -> int:
    return session.scalar(select(func.count(Channel.id)).where(Channel.policy_id == policy.id)) or 0


def delete_policy(session: Session, policy: DeadlinePolicy, user_id: str) -> None:
    """Built-in policies stay (they can be edited); a policy a channel uses cannot go."""
    if policy.builtin:
        raise PolicyRejected([str(_l("A built-in policy cannot be deleted; you can edit it."))])
    if channels_using(session, policy):
        raise PolicyRejected([str(_l("A channel uses this policy; give the channel another policy first."))])
    session.add(AuditEvent(user_id=user_id, action="policy_deleted", detail=policy.slug))
    session.delete(policy)
    session.flush()
