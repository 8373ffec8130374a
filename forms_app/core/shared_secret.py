"""The signing key when several app hosts share one PostgreSQL database.

Every host must sign session cookies, CSRF tokens, permit links and one-time codes with the
same key, so on PostgreSQL the key never comes from one host's instance folder: it is
``SECRET_KEY`` from the environment when set, else one random key kept in the database (table
``deployment_secret``), created by the first process that asks and read by every other
(``INSERT … ON CONFLICT DO NOTHING``, then read back: two hosts starting at once get the same
key). With SQLite there is one host, and the key file in its instance folder stays.

The table holds settings of the deployment, not of a community: it is the one table without
the community key.
"""

from __future__ import annotations

import logging
import secrets

from flask import Flask
from sqlalchemy import String, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db

SIGNING_KEY = "signing_key"
log = logging.getLogger(__name__)


class DeploymentSecret(db.Model):
    __tablename__ = "deployment_secret"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


def uses_shared_key(app: Flask) -> bool:
    return not app.config.get("SECRET_KEY") and app.config["SQLALCHEMY_DATABASE_URI"].startswith(
        "postgresql"
    )


def load_shared_key(app: Flask) -> None:
    """Set ``SECRET_KEY`` from the database (PostgreSQL without ``SECRET_KEY`` in the
    environment). Before the first migration the table is missing: the process then gets a
    key of its own and says so (only ``flask db upgrade`` should run at that point)."""
    if not uses_shared_key(app):
        return
    with app.app_context():
        try:
            with db.engine.begin() as connection:
                connection.execute(
                    insert(DeploymentSecret)
                    .values(name=SIGNING_KEY, value=secrets.token_hex(32))
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                key = connection.scalar(
                    select(DeploymentSecret.value).where(DeploymentSecret.name == SIGNING_KEY)
                )
        except ProgrammingError:  # the table is not there yet: the database is not migrated
            key = secrets.token_hex(32)
            log.warning(
                "数据库尚未迁移（没有 deployment_secret 表）：本进程使用临时签名密钥。"
                "请先运行 flask --app forms_app db upgrade。"
            )
        finally:
            db.engine.dispose()  # no connection inherited by forked workers
    app.config["SECRET_KEY"] = key
