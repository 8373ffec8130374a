"""The migrations build exactly the schema the models describe, and run down and up again."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from forms_app.core.extensions import db
from tests.support.apps import TEST_CONFIG


def test_models_match_migrations(app):
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models and migrations differ: {differences}"


def test_downgrade_to_base_and_upgrade_again(app):
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, db.metadata) == []


def test_downgrade_to_base_and_upgrade_again_on_postgresql(postgres_url, tmp_path, monkeypatch):
    """The PostgreSQL tests copy a migrated template database; here the migrations themselves
    run on PostgreSQL: up from nothing, down to base, and up again, matching the models."""
    from forms_app import create_app
    from tests.support.postgres import as_app_role, fresh_database

    fresh_database(postgres_url, tmp_path / "instance", monkeypatch)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    # As the tables' owner, whom their forced row-level security holds too (env.py goes round).
    monkeypatch.setenv("DATABASE_URL", as_app_role(postgres_url))
    app = create_app(dict(TEST_CONFIG))
    with app.app_context():
        try:
            downgrade(revision="base")
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection)
                assert context.get_current_revision() is None
            upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                assert compare_metadata(context, db.metadata) == []
        finally:
            db.session.remove()
            db.engine.dispose()


def test_keying_a_table_keeps_its_rows_and_their_children(app, staff_accounts):
    """Batch mode rebuilds a table on SQLite to add or drop its community key (0025); with
    foreign keys on, dropping the old table would take every ON DELETE CASCADE child with it.
    The migrations run with them off (env.py): an application keeps its history both ways,
    and a row from before the key gets the running community's."""
    from sqlalchemy import func, select, text

    from forms_app.core.community import community_key
    from forms_app.renovation.models import RenovationApplication, RenovationEvent
    from tests.support.renovation import file_application, walk

    application_id = file_application(app)
    walk(app, application_id, "approve", "start")
    with app.app_context():
        downgrade(revision="0024_cleaning_community")
        assert db.session.execute(text("SELECT count(*) FROM renovation_event")).scalar() == 3
        db.session.remove()
        upgrade()
        row = db.session.get(RenovationApplication, application_id)
        assert (row.community, row.state) == (community_key(), "in_progress")
        assert db.session.scalar(select(func.count(RenovationEvent.id))) == 3


def test_keying_requests_surveys_and_the_outbox_keeps_their_children(app):
    """0026 rebuilds service_request, survey_response and notification (and more): a request's
    history, a questionnaire's answers and a message's attempts stay, both ways."""
    from sqlalchemy import func, select, text

    from forms_app.core.community import community_key
    from forms_app.core.tokens import new_nonce
    from forms_app.notifications.models import DeliveryAttempt, Notification
    from forms_app.service_requests import intake
    from forms_app.service_requests.models import ServiceEvent, ServiceRequest
    from forms_app.surveys.forms import Answer
    from forms_app.surveys.models import SurveyAnswer
    from tests.service_requests.conftest import repair_fields
    from tests.surveys.conftest import store

    store(app, "satisfaction", [Answer("cleaning", value=5), Answer("overall", value=4)])
    with app.test_request_context():
        fields = {**repair_fields(), "building": 5, "unit": 2}
        item_id = intake.file_request("repair", fields, [], new_nonce())[0].id
        message = db.session.scalars(select(Notification)).first()
        db.session.add(DeliveryAttempt(notification_id=message.id, number=1, worker="w"))
        db.session.commit()
        children = ("service_event", "survey_answer", "notification_attempt")
        counts = {
            t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in children
        }
        assert all(counts.values())
        downgrade(revision="0025_key_renovation_move_in")
        for table, count in counts.items():
            assert db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar() == count
        db.session.remove()
        upgrade()
        assert db.session.get(ServiceRequest, item_id).community == community_key()
        for model, table in zip(
            (ServiceEvent, SurveyAnswer, DeliveryAttempt), children, strict=True
        ):
            assert db.session.scalar(select(func.count(model.id))) == counts[table]
