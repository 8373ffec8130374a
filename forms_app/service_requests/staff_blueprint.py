"""The back office's blueprint for repairs and complaints; the view modules attach to it."""

from flask import Blueprint

bp = Blueprint("service_requests_staff", __name__)
