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
    from tests.support.postgres import fresh_database

    fresh_database(postgres_url, tmp_path / "instance", monkeypatch)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", postgres_url)
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
