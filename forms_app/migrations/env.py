import logging
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from flask import current_app

from forms_app.core.community_scope import every_community
from forms_app.core.row_security import wall_keyed_tables, walls_exist

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Without disable_existing_loggers=False a migration run in-process would silence the
# app's own loggers (the notification log channel among them).
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    # The migrations run as the tables' owner, whom PostgreSQL's forced row-level security
    # holds too (core/row_security.py): they work on every community's rows.
    with (
        every_community("数据库迁移"),
        connectable.connect() as connection,
        sqlite_foreign_keys_off(connection),
    ):
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)

        with context.begin_transaction():
            context.run_migrations()
            refuse_broken_foreign_keys(connection)
            wall_new_community_tables(connection)


def wall_new_community_tables(connection):
    """Once the walls exist (0027_row_level_security), a table a later migration keyed or
    created with a ``community`` column gets its wall too (PostgreSQL), without a list to
    keep."""
    if walls_exist(connection):
        walled = wall_keyed_tables(connection)
        if walled:
            logger.info("row-level security on %s", ", ".join(walled))


@contextmanager
def sqlite_foreign_keys_off(connection):
    """SQLite's foreign keys off while the migrations run (the app turns them on for every
    connection). Batch mode rebuilds a table on SQLite - a new table, the rows copied, the old
    one dropped - and with foreign keys on, dropping it first deletes its rows, which takes
    every ``ON DELETE CASCADE`` child row with them. The pragma has no effect inside a
    transaction, so it is set on the driver's connection before the migrations' transaction
    begins; ``refuse_broken_foreign_keys`` checks the result before it commits."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def refuse_broken_foreign_keys(connection):
    """Roll the migrations back when they left a row pointing at nothing (SQLite)."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migrations left rows with broken foreign keys: {broken[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
