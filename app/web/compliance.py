"""Compliance pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("compliance", __name__)
