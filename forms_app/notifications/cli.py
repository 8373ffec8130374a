"""``flask --app forms_app notifications-worker``: the delivery process (``make run`` starts it)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from .settings import SettingsError, notification_settings
from .worker import run


@click.command("notifications-worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, run the scans once, and exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Deliver the outbox's messages with retries until stopped (SIGTERM or Ctrl-C)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = current_app._get_current_object()
    try:
        notification_settings(app.config)
    except SettingsError as error:
        raise click.ClickException(f"通知设置有误：{error}") from None
    run(app, once=once)
