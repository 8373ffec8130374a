"""The app's surveys: the definitions read from ``SURVEYS_DIR`` when the app starts."""

from __future__ import annotations

from flask import abort, current_app

from .definitions import Survey, load_surveys

EXTENSION_KEY = "surveys"


def load_into(app) -> None:
    """Read the app's survey files (``SURVEYS_DIR``, default ``data/surveys``)."""
    directory = app.config["SURVEYS_DIR"]
    app.extensions[EXTENSION_KEY] = load_surveys(directory)


def all_surveys() -> dict[str, Survey]:
    return current_app.extensions[EXTENSION_KEY]


def survey_or_404(slug: str) -> Survey:
    survey = all_surveys().get(slug)
    if survey is None:
        abort(404)
    return survey
