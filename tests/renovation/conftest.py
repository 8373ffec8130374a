"""Renovation fixtures: submitting an application, reading what was stored, moving it on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.renovation.models import RenovationApplication, record_event
from tests.support.renovation import Owner


@pytest.fixture
def owner(client) -> Owner:
    return Owner(client)


@pytest.fixture
def stored(app):
    """Read what the database holds."""

    class Stored:
        def count(self) -> int:
            with app.app_context():
                return db.session.scalar(select(func.count(RenovationApplication.id)))

        def applications(self) -> list[RenovationApplication]:
            with app.app_context():
                rows = db.session.scalars(
                    select(RenovationApplication).order_by(RenovationApplication.id)
                ).all()
                for row in rows:
                    _ = row.attachments, row.events
                db.session.expunge_all()
                return rows

        def files(self) -> list[Path]:
            return sorted(Path(app.config["UPLOAD_DIR"]).iterdir())

    return Stored()


def move_to(app, reference: str, *steps: tuple[str, str]) -> None:
    """Move an application through states as staff would, with ``record_event``."""
    with app.app_context():
        with write_transaction() as session:
            application = session.scalar(
                select(RenovationApplication).where(RenovationApplication.reference == reference)
            )
            for state, comment in steps:
                record_event(application, state, actor_name="客服 李敏", comment=comment)
