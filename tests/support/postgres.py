"""A throw-away PostgreSQL server for the tests that check behaviour SQLite cannot show.

Debian's ``postgresql`` package puts ``initdb``/``pg_ctl`` under /usr/lib/postgresql/N/bin,
off the PATH. Without the server or psycopg the tests are skipped with a hint, except under
``CI=true`` where that is a failure (``.ci/run`` installs both).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.apps import TEST_CONFIG


def _missing(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def server_binaries() -> tuple[str, str] | None:
    """Paths of initdb and pg_ctl: on the PATH, else the newest Debian cluster version."""
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return shutil.which("initdb"), shutil.which("pg_ctl")
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        initdb, pg_ctl = Path(bindir, "initdb"), Path(bindir, "pg_ctl")
        if initdb.exists() and pg_ctl.exists():
            return str(initdb), str(pg_ctl)
    return None


@contextmanager
def postgres_server():
    """Start a server on a Unix socket in a temporary folder; yield the URL of database forms."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed (pip install -e '.[test]')")
    binaries = server_binaries()
    if binaries is None:
        _missing("PostgreSQL is not installed (sudo apt-get install postgresql)")
    initdb, pg_ctl = binaries
    # initdb refuses to run as root; the folder must then belong to the server user.
    as_server = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = tempfile.mkdtemp(prefix="forms-pg-")
    if as_server:
        shutil.chown(base, "postgres")
    data = os.path.join(base, "data")
    subprocess.run(
        [*as_server, initdb, "-D", data, "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_server,
            pg_ctl,
            "-D",
            data,
            "-w",
            "-l",
            os.path.join(base, "log"),
            "-o",
            f"-k {base} -c listen_addresses=''",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        engine = create_engine(
            f"postgresql+psycopg://postgres@/postgres?host={base}", isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as connection:
            connection.execute(text("CREATE DATABASE forms"))
        engine.dispose()
        yield f"postgresql://postgres@/forms?host={base}"
    finally:
        subprocess.run(
            [*as_server, pg_ctl, "-D", data, "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


# Per test process and server: the database every PostgreSQL test's database is copied from,
# migrated once ({server URL: template name}). tests/core/test_migrations.py migrates down
# and up on PostgreSQL itself.
_templates: dict[str, str] = {}
TEMPLATE = "forms_template"


def _admin_engine(postgres_url: str):
    return create_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg://").replace(
            "/forms?", "/postgres?"
        ),
        isolation_level="AUTOCOMMIT",
    )


def _migrated_template(postgres_url: str, instance_path: Path, monkeypatch) -> str:
    """A database with every migration applied, made once per server and process."""
    if postgres_url in _templates:
        return _templates[postgres_url]
    from flask_migrate import upgrade

    from forms_app import create_app
    from forms_app.core.extensions import db

    engine = _admin_engine(postgres_url)
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {TEMPLATE}"))
    engine.dispose()
    with monkeypatch.context() as patch:
        patch.setenv("INSTANCE_PATH", str(instance_path))
        patch.setenv("DATABASE_URL", postgres_url.replace("/forms?", f"/{TEMPLATE}?"))
        template_app = create_app(dict(TEST_CONFIG))
        with template_app.app_context():
            upgrade()
            db.session.remove()
            db.engine.dispose()  # no connection left: a template must have none
    _templates[postgres_url] = TEMPLATE
    return TEMPLATE


def fresh_database(postgres_url: str, instance_path: Path, monkeypatch) -> None:
    """Database ``forms`` anew as a copy of the migrated template (much faster than
    migrating down and up for every test)."""
    template = _migrated_template(postgres_url, instance_path, monkeypatch)
    engine = _admin_engine(postgres_url)
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS forms WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE forms TEMPLATE {template}"))
    engine.dispose()


@contextmanager
def app_on_postgres(postgres_url: str, instance_path: Path, monkeypatch, **config):
    """The app on a freshly migrated PostgreSQL database (a copy of the migrated template)."""
    from forms_app import create_app
    from forms_app.core.extensions import db

    fresh_database(postgres_url, instance_path, monkeypatch)
    monkeypatch.setenv("INSTANCE_PATH", str(instance_path))
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    app = create_app({**TEST_CONFIG, **config})
    app.config["PG_URL"] = postgres_url.replace("postgresql://", "postgresql+psycopg://")
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def wait_for_blocked(connection, count: int, timeout: float = 15.0) -> None:
    """Wait until ``count`` other sessions wait on a lock (``pg_locks`` not granted), so a test
    lets go of a held row only once the concurrent requests are really queued behind it."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        waiting = connection.execute(
            text("SELECT count(*) FROM pg_locks WHERE NOT granted")
        ).scalar()
        if waiting >= count:
            return
        assert time.monotonic() < deadline, f"only {waiting} of {count} sessions reached the lock"
        time.sleep(0.02)
