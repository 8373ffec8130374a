"""The forms landing page: what an owner can do online."""

from flask import Blueprint, render_template

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Links to every owner service, each with the handbook page it follows."""
    return render_template("home.html")
