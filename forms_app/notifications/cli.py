"""``flask --app forms_app notifications worker`` (alias ``notifications-worker``): the delivery
process (``make run`` starts it)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from .settings import SettingsError, notification_settings
from .worker import run, stop_on_signals


@click.command("notifications-worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, run the scans once, and exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Deliver the outbox's messages with retries until stopped (SIGTERM or Ctrl-C)."""
    # The stop handlers go in first, before anything else the worker does. They cannot go in
    # earlier: ``flask --app forms_app`` imports the app and runs create_app to find this
    # command, and this function is the first code that knows the process is the worker.
    # Installing them when a module is imported would change the signals of every process
    # that builds the app (gunicorn, the other flask commands, the tests). A stop during
    # create_app therefore still takes the default action (SIGTERM ends the process, SIGINT
    # raises KeyboardInterrupt), which loses nothing: create_app opens no database connection
    # and the worker claims no message before its ready line ("已启动"), logged once the
    # handlers are in. From then on every stop ends it cleanly with status 0.
    with stop_on_signals() as stop:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        app = current_app._get_current_object()
        try:
            notification_settings(app.config)
        except SettingsError as error:
            raise click.ClickException(f"通知设置有误：{error}") from None
        run(app, once=once, stop=stop)
