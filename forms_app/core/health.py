"""Health check for load balancers and tests: the app answers and its database works."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when a query against the database succeeds, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1")).scalar_one()
    except Exception:  # any database failure means "not healthy", never a 500 page
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
