"""(being built)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("fees_ledger", __name__)
# What this part adds to the back office: navigation links, home panels, audit labels.
NAV: tuple = ()
HOME: tuple = ()
AUDIT: dict[str, str] = {}
