"""Staff back office under ``/forms/staff``: accounts and roles, login, the audit log and
the renovation workflow screens. Account commands live in ``cli.py``."""
from flask import Blueprint

bp = Blueprint("staff", __name__, cli_group=None)

from . import cli, views  # noqa: E402  (views register routes on bp)

cli.register(bp)
