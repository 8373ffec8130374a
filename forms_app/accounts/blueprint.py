"""The accounts blueprint; views and commands attach to it (``cli_group=None``: ``flask create-user``)."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, cli_group=None)
