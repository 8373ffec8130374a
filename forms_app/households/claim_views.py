"""(being built)"""

from __future__ import annotations

from flask import Blueprint

owner_bp = Blueprint("households_claim", __name__)
staff_bp = Blueprint("households_claims", __name__)
