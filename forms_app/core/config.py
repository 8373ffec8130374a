"""Every setting of the app and its default, read from the environment with a local SQLite
default. ``instance/config.py`` and ``create_app(test_config)`` may override any of them; code
reads them from ``current_app.config`` and never keeps a default of its own."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .community import PROJECT_ROOT
from .private_files import make_private, publish_once

MB = 1024 * 1024
# Per form: renovation attachments, patrol photos, cleaning-inspection photos.
UPLOAD_MAX_FILES = 5
UPLOAD_MAX_FILE_BYTES = 10 * MB


def _secret_key(instance_path: str, database_url: str) -> str:
    """SECRET_KEY from the environment, else a random key kept in the instance folder; on
    PostgreSQL (several hosts may share it) empty here, and taken from the database at start
    (core/shared_secret.py), never from one host's folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    if not database_url.startswith("sqlite"):
        return ""
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
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise RuntimeError(f"{name}={raw!r} 不是数字") from None


def _notification_settings() -> dict:
    """Channels and delivery of the notification worker (forms_app/notifications): every
    channel optional, none contacted unless set; checked by the worker at start-up."""
    texts = (
        "PUBLIC_BASE_URL",
        "STAFF_WEBHOOK_URL",
        "SMS_SECRET_ID",
        "SMS_SECRET_KEY",
        "SMS_APP_ID",
        "SMS_SIGN_NAME",
        "SMS_TEMPLATES",
        "SMS_REGION",
        "SMS_ENDPOINT",
    )
    settings = {name: os.environ.get(name, "").strip() for name in texts}
    settings["PUBLIC_BASE_URL"] = settings["PUBLIC_BASE_URL"].rstrip("/")
    settings["STAFF_WEBHOOK_MSGTYPE"] = (
        os.environ.get("STAFF_WEBHOOK_MSGTYPE", "").strip() or "text"
    )
    # Personal staff alerts (the assigned worker, the 主管 of an overdue job, whoever is on
    # duty): "wecom", the group robot mentioning the person's mobile, or "sms" to the mobile.
    settings["STAFF_ALERT_CHANNEL"] = os.environ.get("STAFF_ALERT_CHANNEL", "").strip() or "wecom"
    settings["SMS_REGION"] = settings["SMS_REGION"] or "ap-guangzhou"
    settings["SMS_ENDPOINT"] = settings["SMS_ENDPOINT"] or "https://sms.tencentcloudapi.com"
    settings.update(
        {
            "NOTIFY_TIMEOUT_SECONDS": _number(
                "NOTIFY_TIMEOUT_SECONDS", 10
            ),  # one call to a channel
            "NOTIFY_MAX_ATTEMPTS": int(_number("NOTIFY_MAX_ATTEMPTS", 8)),  # then 发送失败
            # Wait after the first failure, doubled after each further one, up to the maximum.
            "NOTIFY_BACKOFF_SECONDS": _number("NOTIFY_BACKOFF_SECONDS", 30),
            "NOTIFY_BACKOFF_MAX_SECONDS": _number("NOTIFY_BACKOFF_MAX_SECONDS", 3600),
            "NOTIFY_POLL_SECONDS": _number("NOTIFY_POLL_SECONDS", 2),  # idle look at the outbox
            "NOTIFY_SCAN_SECONDS": _number("NOTIFY_SCAN_SECONDS", 300),  # overdue patrols
            # A claimed message is sent again by another worker after this (0: 3 timeouts + 10 s).
            "NOTIFY_LEASE_SECONDS": _number("NOTIFY_LEASE_SECONDS", 0),
        }
    )
    return settings


def build_config(instance_path: str) -> dict:
    """The app's settings for this process."""
    https = os.environ.get("HTTPS", "").lower() in {"1", "true", "yes"}
    site_dir = os.environ.get("SITE_DIR", str(PROJECT_ROOT / "site"))
    staff_site_dir = os.environ.get("STAFF_SITE_DIR", str(PROJECT_ROOT / "site-staff"))
    serve_site = os.environ.get("SERVE_SITE", "1") == "1"
    database_url = _database_url(instance_path)
    return {
        "SECRET_KEY": _secret_key(instance_path, database_url),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A server's connections can die between requests; a local SQLite file's cannot, and
        # pinging it would cost every request a query.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not database_url.startswith("sqlite")},
        # The communities served: COMMUNITY_FILE alone when set, else every file of
        # COMMUNITIES_DIR (data/communities/); COMMUNITY_FILE then names the first, the default
        # community (create_app settles both, after the instance's and a test's settings).
        "COMMUNITY_FILE": os.environ.get("COMMUNITY_FILE") or None,
        "COMMUNITY_FILES": None,
        "COMMUNITIES_DIR": os.environ.get("COMMUNITIES_DIR") or None,
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(Path(instance_path) / "uploads")),
        "UPLOAD_MAX_FILES": UPLOAD_MAX_FILES,
        "UPLOAD_MAX_FILE_BYTES": UPLOAD_MAX_FILE_BYTES,
        # The most files of one form plus the form fields.
        "MAX_CONTENT_LENGTH": UPLOAD_MAX_FILES * UPLOAD_MAX_FILE_BYTES + 2 * MB,
        "MAX_FORM_MEMORY_SIZE": 1 * MB,
        # Attachments kept for a form that is never submitted are removed after this long.
        "PENDING_UPLOAD_MAX_AGE_HOURS": 24,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        # Served over HTTPS only: also sends Strict-Transport-Security, and refuses the example
        # community file (see forms_app.core.community).
        "HTTPS": https,
        "SESSION_COOKIE_NAME": "forms_session",
        "WTF_CSRF_TIME_LIMIT": None,
        # The handbook's halves (public owner site, staff handbook behind the staff login) are
        # served from the same process only in local runs; nginx serves them in production.
        "SITE_DIR": site_dir if serve_site else None,
        "STAFF_SITE_DIR": staff_site_dir if serve_site else None,
        # The Host names the app answers (Flask refuses others with 400): TRUSTED_HOSTS, comma
        # separated, else the loopback names; PUBLIC_BASE_URL's host is always added
        # (forms_app/core/public_urls.py). Set from the environment in create_app.
        "TRUSTED_HOSTS_SETTING": os.environ.get("TRUSTED_HOSTS", ""),
        # Number of proxies in front of the app (nginx = 1) for ProxyFix.
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        # The survey files (None: data/surveys).
        "SURVEYS_DIR": os.environ.get("SURVEYS_DIR") or None,
        # Staff training: the paths and quizzes (None: data/training), and the staff handbook
        # their sections come from: its MkDocs file (None: mkdocs-staff.yml) and another copy of
        # its pages (None: that file's docs_dir).
        "TRAINING_DIR": os.environ.get("TRAINING_DIR") or None,
        "STAFF_HANDBOOK_CONFIG": os.environ.get("STAFF_HANDBOOK_CONFIG") or None,
        "STAFF_HANDBOOK_DOCS": None,
        # Failed logins within 15 minutes before logins are refused.
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        "SURVEY_SUBMISSIONS_PER_ADDRESS_PER_HOUR": 30,
        # Anonymous public POSTs (accounts/public_posts.py), counted in the database: per
        # client address per hour (sized for carrier NAT: many owners on 4G share an address),
        # and filings of one owner form per room per day. Staff sessions are exempt.
        "PUBLIC_POSTS_PER_ADDRESS_PER_HOUR": int(_number("PUBLIC_POSTS_PER_ADDRESS_PER_HOUR", 60)),
        "PUBLIC_FILINGS_PER_ROOM_PER_DAY": int(_number("PUBLIC_FILINGS_PER_ROOM_PER_DAY", 3)),
        # Attachments kept for forms not yet sent (files/pending_uploads.py): at most this many
        # bytes per client address (about ten full forms: carrier NAT) and in total.
        "PENDING_UPLOAD_MAX_BYTES_PER_ADDRESS": int(
            _number("PENDING_UPLOAD_MAX_BYTES_PER_ADDRESS", 500 * MB)
        ),
        "PENDING_UPLOAD_MAX_TOTAL_BYTES": int(_number("PENDING_UPLOAD_MAX_TOTAL_BYTES", 4096 * MB)),
        # A fixed date ("2026-05-01") for demonstrations and tests; None: the real date.
        "TODAY": None,
        # argon2id cost (accounts/passwords.py): "owasp", or "testing" for test suites only.
        "PASSWORD_HASH_COST": os.environ.get("PASSWORD_HASH_COST", "owasp"),
        **_notification_settings(),
        # 我的办理's one-time codes (my_records/codes.py): valid minutes, the wait between two
        # codes for one mobile, codes per hour per mobile and per address, wrong codes before a
        # mobile (or an address) is locked and for how long, and how long the list stays open.
        "MY_CODE_MINUTES": 10,
        "MY_CODE_INTERVAL_SECONDS": 60,
        "MY_CODES_PER_MOBILE_PER_HOUR": 5,
        "MY_CODES_PER_ADDRESS_PER_HOUR": 20,
        "MY_MAX_WRONG_CODES": 5,  # per (mobile, address) pair
        "MY_WRONG_TRIES_PER_CODE": 3,  # then that code is dead, whatever the address
        "MY_WRONG_CODES_PER_ADDRESS": 20,
        "MY_LOCK_MINUTES": 30,
        "MY_SESSION_MINUTES": 15,
    }
