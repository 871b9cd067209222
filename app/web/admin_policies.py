"""Admin pages for deadline policies, registered on the admin blueprint (admin role only)."""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length

from app.db import get_session
from app.forms import BaseForm
from app.models import DeadlinePolicy
from app.services import clock, defaults, policies
from app.services.staff_auth import current_staff, require_role
from app.web.admin import bp


class PolicyForm(BaseForm):
    slug = StringField(_l("Short name (for a new policy)"), validators=[Length(max=64)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    description = TextAreaField(_l("Description and sources"), validators=[Length(max=5000)])
    shift_to_working_day = BooleanField(_l("A due date on a Saturday or Sunday moves to the Monday"))
    rules = TextAreaField(_l("Milestones (JSON)"), validators=[Length(max=20000)])


class DeleteForm(BaseForm):
    pass


def _render(template: str, **context: Any) -> str:
    return render_template(template, staff=current_staff(), triggers=clock.TRIGGERS, events=clock.EVENTS, **context)


def _describe(policy: DeadlinePolicy) -> list[clock.Rule]:
    try:
        return clock.parse_rules(policy.rules)
    except clock.PolicyError:
        return []


@bp.get("/policies")
@require_role("admin")
def policies_list() -> str:
    session = get_session()
    items = list(session.scalars(select(DeadlinePolicy).order_by(DeadlinePolicy.builtin.desc(), DeadlinePolicy.name)))
    return _render("admin/policies.html", policies=items, described={p.id: _describe(p) for p in items},
                   used={p.id: policies.channels_using(session, p) for p in items})


def _edit(policy: DeadlinePolicy | None) -> Any:
    session = get_session()
    # A built-in policy's texts in the page's language: saving them stores what the admin saw.
    name, description = defaults.policy_text(policy, g.get("lang", "nl")) if policy is not None else ("", "")
    form = PolicyForm() if policy is None else PolicyForm(data={
        "name": name, "description": description, "rules": policies.rules_as_json(policy),
        "shift_to_working_day": policy.shift_to_working_day,
    })
    problems: list[str] = []
    if form.validate_on_submit():
        staff = current_staff()
        assert staff is not None
        data = policies.PolicyInput(
            name=form.name.data or "", description=form.description.data or "", rules_json=form.rules.data or "",
            shift_to_working_day=bool(form.shift_to_working_day.data), slug=(form.slug.data or "").strip(),
        )
        try:
            saved = policies.save_policy(session, data, policy, staff.user.id)
        except policies.PolicyRejected as rejected:
            session.rollback()
            problems = rejected.problems
        else:
            session.commit()
            return redirect(url_for("admin.policies_list", _anchor=saved.slug))
    return _render("admin/policies_edit.html", form=form, policy=policy, problems=problems, delete_form=DeleteForm(),
                   used=policies.channels_using(session, policy) if policy else 0)


@bp.route("/policies/new", methods=["GET", "POST"])
@require_role("admin")
def policy_new() -> Any:
    return _edit(None)


@bp.route("/policies/<slug>", methods=["GET", "POST"])
@require_role("admin")
def policy_edit(slug: str) -> Any:
    policy = get_session().scalar(select(DeadlinePolicy).where(DeadlinePolicy.slug == slug)) or abort(404)
    return _edit(policy)


@bp.post("/policies/<slug>/delete")
@require_role("admin")
def policy_delete(slug: str) -> Response | str:
    session = get_session()
    policy = session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.slug == slug)) or abort(404)
    if not DeleteForm().validate_on_submit():
        abort(400)
    staff = current_staff()
    assert staff is not None
    try:
        policies.delete_policy(session, policy, staff.user.id)
    except policies.PolicyRejected as rejected:
        session.rollback()
        form = PolicyForm(data={"name": policy.name, "description": policy.description,
                                "rules": policies.rules_as_json(policy),
                                "shift_to_working_day": policy.shift_to_working_day})
        return _render("admin/policies_edit.html", form=form, policy=policy, problems=rejected.problems,
                       delete_form=DeleteForm(), used=policies.channels_using(session, policy))
    session.commit()
    return redirect(url_for("admin.policies_list"))
