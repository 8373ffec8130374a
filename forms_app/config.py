"""Every setting of the app and its default, read from the environment with a local SQLite
default. ``instance/config.py`` and ``create_app(test_config)`` may override any of them; code
reads them from ``current_app.config`` and never keeps a default of its own."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from .community import DEFAULT_COMMUNITY_FILE, PROJECT_ROOT
from .private_files import make_private, publish_once

MB = 1024 * 1024
# Per form: renovation attachments, patrol photos, cleaning-inspection photos.
UPLOAD_MAX_FILES = 5
UPLOAD_MAX_FILE_BYTES = 10 * MB


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else a random key kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = Path(instance_path) / "secret_key"
    # Two workers starting at once: one creates the file, both read the same key.
    if not publish_once(key_file, secrets.token_hex(32).encode()):
        make_private(key_file)
    return key_file.read_text().strip()


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{Path(instance_path) / 'forms.sqlite3'}"
    # Heroku-style URLs name the old driver; use psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def build_config(instance_path: str) -> dict:
    """The app's settings for this process."""
    https = os.environ.get("HTTPS", "").lower() in {"1", "true", "yes"}
    site_dir = os.environ.get("SITE_DIR", str(PROJECT_ROOT / "site"))
    staff_site_dir = os.environ.get("STAFF_SITE_DIR", str(PROJECT_ROOT / "site-staff"))
    serve_site = os.environ.get("SERVE_SITE", "1") == "1"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "COMMUNITY_FILE": os.environ.get("COMMUNITY_FILE", str(DEFAULT_COMMUNITY_FILE)),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(Path(instance_path) / "uploads")),
        "UPLOAD_MAX_FILES": UPLOAD_MAX_FILES,
        "UPLOAD_MAX_FILE_BYTES": UPLOAD_MAX_FILE_BYTES,
        # The most files of one form plus the form fields.
        "MAX_CONTENT_LENGTH": UPLOAD_MAX_FILES * UPLOAD_MAX_FILE_BYTES + 2 * MB,
        "MAX_FORM_MEMORY_SIZE": 1 * MB,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        # Served over HTTPS only: also sends Strict-Transport-Security.
        "HTTPS": https,
        "SESSION_COOKIE_NAME": "forms_session",
        "WTF_CSRF_TIME_LIMIT": None,
        # The handbook's halves (public owner site, staff handbook behind the staff login) are
        # served from the same process only in local runs; nginx serves them in production.
        "SITE_DIR": site_dir if serve_site else None,
        "STAFF_SITE_DIR": staff_site_dir if serve_site else None,
        # Number of proxies in front of the app (nginx = 1) for ProxyFix.
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        # The survey files (None: data/surveys).
        "SURVEYS_DIR": os.environ.get("SURVEYS_DIR") or None,
        # Failed logins within 15 minutes before logins are refused.
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        "SURVEY_SUBMISSIONS_PER_ADDRESS_PER_HOUR": 30,
        # A fixed date ("2026-05-01") for demonstrations and tests; None: the real date.
        "TODAY": None,
        # argon2id cost (accounts/passwords.py): "owasp", or "testing" for test suites only.
        "PASSWORD_HASH_COST": os.environ.get("PASSWORD_HASH_COST", "owasp"),
    }
