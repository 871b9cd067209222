"""Form base class with a CSRF token that needs no cookie.

Reporter pages may set no cookie before the mailbox login, so the token cannot live in a session.
It is a signed, time-limited value bound to the current session id (empty before login): forged
cross-site posts lack it, and `security.py` refuses cross-site posts on top of it.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from wtforms import Field, Form
from wtforms.csrf.core import CSRF
from wtforms.validators import ValidationError

TOKEN_MAX_AGE_SECONDS = 4 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["MELDKLUIS"].csrf_key, salt="meldkluis-csrf")


def csrf_binding() -> str:
    """What a token is bound to: the logged-in session's id, or "" before any login."""
    return str(g.get("csrf_binding", ""))


class SignedCSRF(CSRF):
    def setup_form(self, form: Form) -> Any:
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field: Field) -> str:
        return str(_serializer().dumps(csrf_binding()))

    def validate_csrf_token(self, form: Form, field: Field) -> None:
        try:
            bound = _serializer().loads(field.data or "", max_age=TOKEN_MAX_AGE_SECONDS)
        except SignatureExpired as exc:
            raise ValidationError(_l("This form has expired. Please send it again.")) from exc
        except BadSignature as exc:
            raise ValidationError(_l("This form could not be verified. Please send it again.")) from exc
        if bound != csrf_binding():
            raise ValidationError(_l("This form could not be verified. Please send it again."))


class BaseForm(FlaskForm):
    """Every Meldkluis form: CSRF-protected without a cookie."""

    class Meta:
        csrf = True
        csrf_class = SignedCSRF
