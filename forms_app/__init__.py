"""The forms app: renovation applications, move-in bookings, surveys and the staff back office.

Mounted under ``/forms``; in local runs the same process also serves the built handbook at ``/``.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from . import database, operations
from .community import cached_community
from .config import build_config
from .extensions import csrf, db, migrate

URL_PREFIX = "/forms"
MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: configure, bind extensions, register the blueprints."""
    instance_path = os.environ.get("INSTANCE_PATH") or None
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=instance_path,
        static_url_path=f"{URL_PREFIX}/static",
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(build_config(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.from_mapping(test_config)
    os.makedirs(app.config["UPLOAD_DIR"], exist_ok=True)

    configure_extensions(app)
    configure_proxy(app)
    configure_templates(app)
    register_blueprints(app)
    return app


def configure_extensions(app: Flask) -> None:
    database.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    operations.init_app(app)


def configure_proxy(app: Flask) -> None:
    """Trust X-Forwarded-* only from the configured number of proxies (nginx in production)."""
    count = app.config["PROXY_COUNT"]
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def configure_templates(app: Flask) -> None:
    @app.context_processor
    def inject_community():
        return {"community": community(app)}


def community(app: Flask):
    """The community data this app was configured with."""
    return cached_community(app.config["COMMUNITY_FILE"])


def register_blueprints(app: Flask) -> None:
    from . import errors, health, security_headers, site

    errors.init_app(app)
    security_headers.init_app(app)
    app.register_blueprint(health.bp, url_prefix=URL_PREFIX)
    for blueprint, prefix in domain_blueprints():
        app.register_blueprint(blueprint, url_prefix=URL_PREFIX + prefix)
    if app.config.get("SITE_DIR"):
        app.register_blueprint(site.bp)


def domain_blueprints():
    """The blueprints of each domain package, with their URL prefix under /forms."""
    from .cleaning.views import bp as cleaning_bp
    from .home import bp as home_bp
    from .move_in.staff_views import bp as move_in_staff_bp
    from .move_in.views import bp as move_in_bp
    from .renovation.views import bp as renovation_bp
    from .staff import staff_blueprint
    from .surveys.staff_views import bp as survey_staff_bp
    from .surveys.views import bp as surveys_bp

    return [
        (home_bp, ""),
        (renovation_bp, "/renovation"),
        (staff_blueprint(), "/staff"),
        (surveys_bp, "/surveys"),
        (survey_staff_bp, "/staff/surveys"),
        (move_in_bp, "/move-in"),
        (move_in_staff_bp, "/staff/move-ins"),
        (cleaning_bp, "/staff/cleaning"),
    ]
