"""Surveys as data: questionnaires from ``data/surveys/*.yml``, answered by owners on phones,
with results and exports for staff.

The survey files are loaded and checked when the blueprint is registered, so a broken file
stops ``create_app`` with a message naming the file and the line.
"""
from __future__ import annotations

import os

from flask import abort, current_app

from .definitions import Survey, load_surveys

EXTENSION_KEY = "surveys"


def load_into(app) -> None:
    """Read the app's survey files (``SURVEYS_DIR``, default ``data/surveys``)."""
    directory = app.config.get("SURVEYS_DIR") or os.environ.get("SURVEYS_DIR")
    app.extensions[EXTENSION_KEY] = load_surveys(directory)


def all_surveys() -> dict[str, Survey]:
    return current_app.extensions[EXTENSION_KEY]


def survey_or_404(slug: str) -> Survey:
    survey = all_surveys().get(slug)
    if survey is None:
        abort(404)
    return survey
