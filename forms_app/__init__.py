"""The forms app: renovation applications, move-in bookings, surveys and the staff back office.

Mounted under ``/forms``; in local runs the same process also serves the built handbook at ``/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import configure_mappers

from . import (
    accounts,
    cleaning,
    events,
    fees,
    handbook,
    households,
    move_in,
    my_records,
    notices,
    notifications,
    renovation,
    service_requests,
    surveys,
    training,
)
from .accounts.passwords import COSTS
from .core import database, health, landing, row_ids, security_headers
from .core.community import (
    COMMUNITIES_DIR,
    CommunityDataError,
    current_community,
    deployment_files,
    refuse_example_in_production,
    served_communities,
)
from .core.config import build_config
from .core.extensions import csrf, db, migrate
from .core.fee_standards import (
    current_fee_standards,
    fee_standards,
    refuse_example_fees_in_production,
)
from .core.private_files import private_dir
from .core.public_urls import check_public_base_url, trusted_hosts
from .core.shared_secret import load_shared_key
from .core.url_rules import LazyBuildRule
from .files import commands as file_commands
from .files.uploads import upload_limits
from .web import errors, static_files, template_filters
from .web.compiled_templates import COMPILED_TEMPLATES
from .web.typed_input import FormRequest

URL_PREFIX = "/forms"
MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")
# Each domain registers its blueprints and its part of the staff home (``init_app``).
DOMAINS = (renovation, move_in, surveys, cleaning, service_requests, training, fees, notices)
# Layers between accounts and the domains: domains import them (enqueue a message, read the
# household registry, register a household's records), they import no domain. The registry is
# registered first (住户档案 leads the navigation), the others after the domains.
SERVICES = (notifications, my_records)


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: configure, bind extensions, register the blueprints."""
    instance_path = os.environ.get("INSTANCE_PATH") or None
    app = static_files.StaticVersionsFlask(
        __name__,
        instance_relative_config=True,
        instance_path=instance_path,
        static_url_path=f"{URL_PREFIX}/static",
    )
    app.request_class = FormRequest
    app.url_rule_class = LazyBuildRule
    # Before anything touches app.jinja_env, which is made from these options once.
    app.jinja_options = {**app.jinja_options, "bytecode_cache": COMPILED_TEMPLATES}
    private_dir(app.instance_path)
    app.config.from_mapping(build_config(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.from_mapping(test_config)
    settle_communities(app.config)
    private_dir(app.config["UPLOAD_DIR"])
    check_config(app)

    configure_extensions(app)
    load_shared_key(app)
    configure_proxy(app)
    configure_templates(app)
    register_blueprints(app)
    # The models' relationships are worked out now, once per process (with gunicorn's
    # --preload, in the master before it forks), not by each worker at its first query.
    configure_mappers()
    return app


def settle_communities(config) -> None:
    """``COMMUNITY_FILES`` (every community served) and ``COMMUNITY_FILE`` (the default one):
    a community file named alone is the only one; else every file of the communities folder."""
    files = config.get("COMMUNITY_FILES") or deployment_files(
        config.get("COMMUNITY_FILE"), config.get("COMMUNITIES_DIR")
    )
    if not files:
        raise CommunityDataError(
            f"{config.get('COMMUNITIES_DIR') or COMMUNITIES_DIR} 中没有小区文件（*.yml）。"
        )
    config["COMMUNITY_FILES"] = [str(path) for path in files]
    config["COMMUNITY_FILE"] = config.get("COMMUNITY_FILE") or config["COMMUNITY_FILES"][0]


def check_config(app: Flask) -> None:
    """Refuse settings that must never reach production."""
    cost = app.config["PASSWORD_HASH_COST"]
    if cost not in COSTS:
        raise RuntimeError(f"PASSWORD_HASH_COST 只能是 {', '.join(COSTS)}，而不是 {cost!r}。")
    if cost != "owasp" and app.config["SESSION_COOKIE_SECURE"]:
        raise RuntimeError("生产环境（HTTPS=1）必须使用 PASSWORD_HASH_COST=owasp。")
    for community in served_communities(app):
        refuse_example_in_production(community, app.config["HTTPS"])
        # The fee file is read and checked now: a broken one stops the start with the file and
        # the key named, the example one is refused in production like the example community.
        refuse_example_fees_in_production(fee_standards(community), app.config["HTTPS"])
    # Links in messages come only from the site's configured address; other hosts get a 400.
    check_public_base_url(app.config["PUBLIC_BASE_URL"], app.config["HTTPS"])
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(
            app.config["TRUSTED_HOSTS_SETTING"], app.config["PUBLIC_BASE_URL"]
        ) + [host for community in served_communities(app) for host in community.hosts]


def configure_extensions(app: Flask) -> None:
    database.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    file_commands.init_app(app)


def configure_proxy(app: Flask) -> None:
    """Trust X-Forwarded-* only from the configured number of proxies (nginx in production)."""
    count = app.config["PROXY_COUNT"]
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def configure_templates(app: Flask) -> None:
    template_filters.init_app(app)
    static_files.init_app(app)

    @app.context_processor
    def inject_settings():
        return {
            "community": current_community(),
            "fees": current_fee_standards(),
            "upload_limits": upload_limits(),
        }


def register_blueprints(app: Flask) -> None:
    # First: the rules below are bound to the converters the map has when they are added.
    row_ids.init_app(app)
    errors.init_app(app)
    security_headers.init_app(app)
    app.register_blueprint(health.bp, url_prefix=URL_PREFIX)
    app.register_blueprint(landing.bp, url_prefix=URL_PREFIX)
    accounts.init_app(app, URL_PREFIX)
    # The order here is the order of the back office's navigation and home panels.
    for part in (households, *DOMAINS, *SERVICES):
        part.init_app(app, URL_PREFIX)
    accounts.register_home_panels(app)
    handbook.init_app(app, URL_PREFIX)
    # Last: every part has declared its events and subscribed to others'.
    events.check(app)
