"""Every setting has its default in config.py, and settings that must never reach production
stop the app instead."""

import pytest

from forms_app import create_app
from forms_app.core.config import build_config


def test_every_setting_the_code_reads_has_a_default(tmp_path):
    settings = build_config(str(tmp_path))
    for name in (
        "UPLOAD_MAX_FILES",
        "UPLOAD_MAX_FILE_BYTES",
        "MAX_CONTENT_LENGTH",
        "SURVEYS_DIR",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT",
        "LOGIN_MAX_FAILURES_PER_ADDRESS",
        "SURVEY_SUBMISSIONS_PER_ADDRESS_PER_HOUR",
        "TODAY",
        "PASSWORD_HASH_COST",
        "TRAINING_DIR",
        "STAFF_HANDBOOK_CONFIG",
        "STAFF_HANDBOOK_DOCS",
    ):
        assert name in settings, name
    assert settings["PASSWORD_HASH_COST"] == "owasp"
    assert (
        settings["MAX_CONTENT_LENGTH"]
        > settings["UPLOAD_MAX_FILES"] * settings["UPLOAD_MAX_FILE_BYTES"]
    )


def test_production_refuses_the_cheap_password_hashes(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HTTPS", "1")
    with pytest.raises(RuntimeError, match="PASSWORD_HASH_COST=owasp"):
        create_app({"SITE_DIR": None, "PASSWORD_HASH_COST": "testing"})
    with pytest.raises(RuntimeError, match="只能是"):
        create_app({"SITE_DIR": None, "PASSWORD_HASH_COST": "cheap"})


def test_upload_limits_reach_the_form_and_the_413_page(app, client):
    app.config.update(UPLOAD_MAX_FILES=3, UPLOAD_MAX_FILE_BYTES=4 * 1024 * 1024)
    page = client.get("/forms/renovation/apply").get_data(as_text=True)
    assert "最多3个，每个不超过4 MB" in page
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/forms/renovation/apply", data={"x": "y" * 5000})
    assert response.status_code == 413
    assert "每个附件不超过 4 MB，最多 3 个" in response.get_data(as_text=True)
