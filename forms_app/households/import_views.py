"""(being built)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("households_import", __name__)
