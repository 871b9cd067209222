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
        # Signed once per request and binding: a page with a dozen forms (the case page) needs one token.
        binding = csrf_binding()
        signed: tuple[str, str] | None = g.get("signed_csrf_token")
        if signed is None or signed[0] != binding:
            signed = (binding, str(_serializer().dumps(binding)))
            g.signed_csrf_token = signed
        return signed[1]

    def validate_csrf_token(self, form: Form, field: Field) -> None:
        try:
            bound = _serializer().loads(field.data or "", max_age=TOKEN_MAX_AGE_SECONDS)
        except SignatureExpired as exc:
            raise ValidationError(_l("This form has expired. Please send it again.")) from exc
        except BadSignature as exc:
            raise ValidationError(_l("This form could not be verified. Please send it again.")) from exc
        if bound != csrf_binding():
            raise ValidationError(_l("This form could not be verified. Please send it again."))


NUL_MESSAGE = _l("This text contains a character that cannot be stored (NUL). Please remove it.")


class BaseForm(FlaskForm):
    """Every Meldkluis form: CSRF-protected without a cookie; a NUL character is refused with a message
    (PostgreSQL cannot store one in a text column, and no person types one)."""

    class Meta:
        csrf = True
        csrf_class = SignedCSRF

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        for field in self:
            values = field.data if isinstance(field.data, list | tuple) else [field.data]
            if any(isinstance(value, str) and "\x00" in value for value in values):
                field.errors = [*field.errors, str(NUL_MESSAGE)]
                valid = False
        return valid
