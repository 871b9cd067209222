"""Handler pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("handler", __name__)
