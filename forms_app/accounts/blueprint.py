"""The accounts blueprint; the views attach to it (the commands are the ``accounts`` group)."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)
