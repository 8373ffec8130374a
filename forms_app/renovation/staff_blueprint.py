"""The back office's blueprint for renovation applications; the staff view modules attach to it."""

from flask import Blueprint

bp = Blueprint("renovation_staff", __name__)
