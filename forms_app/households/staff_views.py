"""住户档案 in the back office: find a household by room, name or a mobile's last digits."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..accounts.access import staff_required
from ..web.typed_input import clean_line
from .registry import search

bp = Blueprint("households_staff", __name__)

MAX_QUERY = 30


@bp.get("/")
@staff_required("households.view")
def index():
    """The search: a room ("3-1-1201", "3号楼1单元1201"), a name, or a mobile's last 4+ digits."""
    query = clean_line(request.args.get("q", ""))[:MAX_QUERY]
    found = search(query) if query else []
    return render_template("households/staff/index.html", query=query, found=found)
