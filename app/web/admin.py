"""Admin pages: accounts and invitations, channel recipients and texts, organisation texts.

Admins see configuration only, never content (the case pages refuse anyone without the handler role).
Deadline policies are edited in app/web/admin_policies.py, which adds its views to this blueprint.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.db import get_session
from app.forms import BaseForm
from app.models import ROLES, Channel, DeadlinePolicy, Organisation, User
from app.services import (
    accounts,
    administration,
    audit_log,
    case_track,
    channels,
    clock,
    compliance,
    defaults,
    submission,
)
from app.services.staff_auth import current_staff, require_role, settings_of_app
from app.web import commit_or_error

bp = Blueprint("admin", __name__)

ROLE_LABELS = {"handler": _l("Handler"), "compliance": _l("Compliance officer"), "admin": _l("Admin")}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(BaseForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name shown to colleagues"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail address for notifications"), validators=[Optional(), Length(max=320)])
    roles = CheckboxesField(_l("Roles"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])


class EditUserForm(BaseForm):
    display_name = StringField(_l("Name shown to colleagues"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail address for notifications"), validators=[Optional(), Length(max=320)])
    roles = CheckboxesField(_l("Roles"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    active = BooleanField(_l("May log in"))


class ChannelForm(BaseForm):
    recipients = CheckboxesField(_l("Handlers who receive new cases"), choices=[], validate_choice=False)
    policy = SelectField(_l("Deadline policy"), choices=[], validate_choice=False)
    acknowledgement_nl = TextAreaField(_l("Acknowledgement text (Dutch)"), validators=[Length(max=5000)])
    acknowledgement_en = TextAreaField(_l("Acknowledgement text (English)"), validators=[Length(max=5000)])


class NewChannelForm(BaseForm):
    slug = StringField(_l("Short name in the web address"), validators=[DataRequired(), Length(max=40)])
    kind = SelectField(_l("Reporters send"), choices=[SelectChoice("melding", _l("a report (melding)")),
                                                      SelectChoice("klacht", _l("a complaint (klacht)")),
                                                      SelectChoice("vraag", _l("a question (vraag)"))])
    name_nl = StringField(_l("Name (Dutch)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    description_nl = TextAreaField(_l("Description (Dutch)"), validators=[Length(max=5000)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Length(max=5000)])
    policy = SelectField(_l("Deadline policy"), choices=[], validate_choice=False)
    categories = TextAreaField(_l("Categories, one a line: short name | Dutch | English"),
                               validators=[Length(max=10000)])
    questions = TextAreaField(_l("Questions of the report form, one a line"), validators=[Length(max=20000)],
                              default=channels.STANDARD_QUESTIONS_TEXT, render_kw={"rows": 9})


class OrganisationForm(BaseForm):
    name = StringField(_l("Name of the organisation"), validators=[DataRequired(), Length(max=200)])
    intro_nl = TextAreaField(_l("Introduction on the start page (Dutch)"), validators=[Length(max=5000)])
    intro_en = TextAreaField(_l("Introduction on the start page (English)"), validators=[Length(max=5000)])
    adviser_name = StringField(_l("Confidential adviser"), validators=[Length(max=200)])
    adviser_contact_nl = TextAreaField(_l("How to reach the adviser (Dutch)"), validators=[Length(max=5000)])
    adviser_contact_en = TextAreaField(_l("How to reach the adviser (English)"), validators=[Length(max=5000)])


class ActionForm(BaseForm):
    pass


def _activation_url(token: str) -> str:
    return f"{settings_of_app().base_url}{url_for('handler.activate', token=token)}"


def _render(template: str, **context: Any) -> str:
    return render_template(template, staff=current_staff(), role_labels=ROLE_LABELS, **context)


@bp.get("/")
@require_role("admin")
def overview() -> Any:
    return _overview()


def _overview(*, mail_sent_to: str | None = None, mail_error: str | None = None, channel_error: str | None = None,
              status: int = 200) -> Any:
    session = get_session()
    users = list(session.scalars(select(User).order_by(User.username)))
    channels = list(session.scalars(select(Channel).order_by(Channel.position)))
    readers = administration.channel_readers(session)
    return _render("admin/overview.html", users=users, channels=channels, action_form=ActionForm(), readers=readers,
                   readers_ok=[channel_id for channel_id, count in readers.items() if count >= 2],
                   mail_sent_to=mail_sent_to, mail_error=mail_error, channel_error=channel_error), status


@bp.route("/users/new", methods=["GET", "POST"])
@require_role("admin")
def new_user() -> str:
    form = UserForm()
    error = None
    if form.validate_on_submit():
        invitation, error = commit_or_error(lambda: administration.invite(
            get_session(), _staff(), form.username.data or "", form.roles.data or [], form.display_name.data or "",
            form.email.data))
        if invitation is not None:
            return _render("admin/invitation.html", user=invitation.user, url=_activation_url(invitation.token))
    return _render("admin/user_new.html", form=form, error=error)


@bp.route("/users/<user_id>", methods=["GET", "POST"])
@require_role("admin")
def edit_user(user_id: str) -> Any:
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    form = EditUserForm(data={"display_name": user.display_name, "email": user.email, "roles": user.roles,
                              "active": user.active})
    error = None
    if form.validate_on_submit():
        _, error = commit_or_error(lambda: administration.update_user(
            session, _staff(), user, form.roles.data or [], bool(form.active.data), form.display_name.data or "",
            form.email.data))
        if error is None:
            return redirect(url_for("admin.overview"))
    return _render("admin/user_edit.html", form=form, user=user, error=error, action_form=ActionForm())


@bp.post("/users/<user_id>/invite")
@require_role("admin")
def reinvite(user_id: str) -> Any:
    session = get_session()
    user = session.get(User, user_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        invitation = administration.reinvite(session, _staff(), user)
    except accounts.AccountError:
        session.rollback()
        return redirect(url_for("admin.edit_user", user_id=user.id))
    session.commit()
    return _render("admin/invitation.html", user=user, url=_activation_url(invitation.token))


@bp.route("/channels/<slug>", methods=["GET", "POST"])
@require_role("admin")
def edit_channel(slug: str) -> Any:
    session = get_session()
    channel = session.scalar(select(Channel).where(Channel.slug == slug)) or abort(404)
    form = ChannelForm(data={"recipients": [r.user_id for r in channel.recipients],
                             "acknowledgement_nl": channel.acknowledgement_nl,
                             "acknowledgement_en": channel.acknowledgement_en, "policy": channel.policy.slug})
    form.policy.choices = [SelectChoice(p.slug, defaults.policy_text(p, g.get("lang", "nl"))[0])
                           for p in session.scalars(select(DeadlinePolicy).order_by(DeadlinePolicy.name))]
    form.recipients.choices = [
        SelectChoice(u.id, u.display_name)
        for u in session.scalars(select(User).where(User.is_handler.is_(True)).order_by(User.display_name))
    ]
    error = None
    if form.validate_on_submit():
        def save() -> None:
            administration.set_channel(session, _staff(), channel, form.recipients.data or [],
                                       form.acknowledgement_nl.data or "", form.acknowledgement_en.data or "")
            try:
                case_track.set_channel_policy(session, _staff().user.id, channel, form.policy.data or "")
            except case_track.TrackRefused as refused:
                raise accounts.AccountError(str(refused)) from refused

        _, error = commit_or_error(save)
        if error is None:
            return redirect(url_for("admin.overview"))
    today = clock.today()
    return _render("admin/channel.html", form=form, channel=channel, error=error, today=today,
                   promised=case_track.promised_dates(channel, today), milestone_labels=compliance.milestone_label,
                   readers=administration.channel_readers(session).get(channel.id, 0),
                   questions=submission.channel_questions(channel))


@bp.route("/channels/new", methods=["GET", "POST"])
@require_role("admin")
def new_channel() -> Any:
    session = get_session()
    form = NewChannelForm()
    form.policy.choices = [SelectChoice(p.slug, defaults.policy_text(p, g.get("lang", "nl"))[0])
                           for p in session.scalars(select(DeadlinePolicy).order_by(DeadlinePolicy.name))]
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            channel = channels.create_channel(session, _staff().user.id, channels.NewChannel(
                **{key: str(getattr(form, key).data or "") for key in (
                    "slug", "kind", "name_nl", "name_en", "description_nl", "description_en")},
                policy_slug=form.policy.data or "", categories_text=form.categories.data or "",
                questions_text=form.questions.data or ""))
        except channels.ChannelRefused as refused:
            session.rollback()
            problems = refused.problems
        else:
            session.commit()
            return redirect(url_for("admin.edit_channel", slug=channel.slug))
    return _render("admin/channel_new.html", form=form, problems=problems)


@bp.post("/channels/<slug>/<action>")
@require_role("admin")
def channel_state(slug: str, action: str) -> Any:
    session = get_session()
    channel = session.scalar(select(Channel).where(Channel.slug == slug)) or abort(404)
    if action not in ("retire", "reactivate", "delete") or not ActionForm().validate_on_submit():
        abort(400)
    try:
        if action == "delete":
            channels.delete_channel(session, _staff().user.id, channel)
        else:
            channels.set_active(session, _staff().user.id, channel, action == "reactivate")
    except channels.ChannelRefused as refused:
        session.rollback()
        return _overview(mail_error=None, channel_error=" ".join(refused.problems), status=400)
    session.commit()
    return redirect(url_for("admin.overview") + "#channels")


@bp.route("/organisation", methods=["GET", "POST"])
@require_role("admin")
def organisation() -> Any:
    session = get_session()
    current = session.get(Organisation, 1)
    form = OrganisationForm(obj=current)
    error = None
    if form.validate_on_submit():
        _, error = commit_or_error(lambda: administration.set_organisation(session, _staff(), {
            key: str(getattr(form, key).data or "") for key in (
                "name", "intro_nl", "intro_en", "adviser_name", "adviser_contact_nl", "adviser_contact_en")
        }))
        if error is None:
            return redirect(url_for("admin.overview"))
    return _render("admin/organisation.html", form=form, error=error)


def _audit_filter() -> audit_log.AuditFilter:
    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None

    return audit_log.AuditFilter(user_id=request.args.get("person", ""), action=request.args.get("action", ""),
                                 since=day("from"), until=day("to"))


@bp.post("/smtp-test")
@require_role("admin")
def smtp_test() -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    address, error = commit_or_error(lambda: administration.send_test_mail(get_session(), settings_of_app(),
                                                                           _staff()))
    return _overview(mail_sent_to=address, mail_error=error, status=200 if error is None else 400)


@bp.get("/audit")
@require_role("admin")
def audit() -> str:
    session = get_session()
    wanted = _audit_filter()
    return _render("admin/audit.html", rows=audit_log.rows(session, wanted), wanted=wanted,
                   people=list(session.scalars(select(User).order_by(User.display_name))),
                   actions=audit_log.actions(session), page_size=audit_log.PAGE_SIZE)


@bp.get("/audit.csv")
@require_role("admin")
def audit_csv() -> Response:
    found = audit_log.rows(get_session(), _audit_filter(), limit=None)
    return Response(stream_with_context(audit_log.as_csv(found, compliance.csv_delimiter(g.get("lang", "nl")))),
                    mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="meldkluis-audit.csv"'})


def _staff() -> Any:
    staff = current_staff()
    assert staff is not None
    return staff


# Deadline policies (the clock engineer's module) register their views on this blueprint here, once it exists:
from app.web import admin_policies  # noqa: E402,F401
