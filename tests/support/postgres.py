"""A throw-away PostgreSQL server for the tests that check behaviour SQLite cannot show.

Debian's ``postgresql`` package puts ``initdb``/``pg_ctl`` under /usr/lib/postgresql/N/bin,
off the PATH. The app connects as ``APP_ROLE``, an ordinary role that owns its database and
tables, as the README asks of a deployment (a superuser would pass through row-level security,
core/row_security.py); ``postgres_url`` itself is the server's superuser, for the tests' own
checks and set-up. Without the server or psycopg the tests are skipped with a hint, except under
``CI=true`` where that is a failure (``.ci/run`` installs both).
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

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


def database_url(url: str, name: str) -> str:
    """The same server's URL for database ``name``."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _as_server() -> list[str]:
    # initdb refuses to run as root; the folder must then belong to the server user.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def start_server() -> tuple[str, str]:
    """Start a server on a Unix socket in a temporary folder: (that folder, its data folder).
    Nothing here is meant to survive a crash of the machine, so the server does not wait for
    the disk (fsync off): locking, constraints and transactions are PostgreSQL's own."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg is not installed (pip install -e '.[test]')")
    binaries = server_binaries()
    if binaries is None:
        _missing("PostgreSQL is not installed (sudo apt-get install postgresql)")
    initdb, pg_ctl = binaries
    as_server = _as_server()
    base = tempfile.mkdtemp(prefix="forms-pg-")
    if as_server:
        shutil.chown(base, "postgres")
    data = os.path.join(base, "data")
    subprocess.run(
        [*as_server, initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-k {base} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [*as_server, pg_ctl, "-D", data, "-w", "-l", os.path.join(base, "log"), "-o", options]
        + ["start"],
        check=True,
        capture_output=True,
    )
    engine = _admin_engine(server_url(base))
    with engine.connect() as connection:
        connection.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"))
    engine.dispose()
    return base, data


def stop_server(base: str, data: str) -> None:
    binaries = server_binaries()
    if binaries:
        subprocess.run(
            [*_as_server(), binaries[1], "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
        )
    shutil.rmtree(base, ignore_errors=True)


# The role the app connects as: it owns its database and tables, and is no superuser.
APP_ROLE = "forms_app"


def server_url(base: str, database: str = "forms") -> str:
    return f"postgresql://postgres@/{database}?host={base}"


def as_app_role(url: str) -> str:
    """The same database's URL for the app's role."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"{APP_ROLE}@{parts.hostname or ''}").geturl()


def create_database(url: str) -> str:
    """Database of ``url`` made anew (empty) on its server; the URL."""
    engine = _admin_engine(url)
    name = urlsplit(url).path.lstrip("/")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name} OWNER {APP_ROLE}"))
    engine.dispose()
    return url


def app_database(postgres_url: str, name: str) -> str:
    """A new empty database ``name`` on the test server, owned by the app's role, as a
    deployment's (``createdb -O wuye wuye``); its URL for the app's role."""
    return as_app_role(create_database(database_url(postgres_url, name)))


def migrated_app_database(postgres_url: str, name: str, instance_path: Path) -> str:
    """A new database ``name`` with every migration applied (a copy of the run's migrated
    template, owned by the app's role), for servers whose tests are not about migrating; its
    URL for the app's role."""
    url = database_url(postgres_url, name)
    with pytest.MonkeyPatch.context() as patch:
        fresh_database(url, instance_path, patch)
    return as_app_role(url)


@contextmanager
def postgres_server():
    """Start a server on a Unix socket in a temporary folder; yield the URL of database forms."""
    base, data = start_server()
    try:
        yield create_database(server_url(base))
    finally:
        stop_server(base, data)


SHARED_SERVER = "postgres.json"


def shared_postgres_server(shared: Path) -> str:
    """Under pytest-xdist: one server for every test process of the run. The first process to
    ask starts it (the others wait on the lock, then use it); the controller stops it when the
    run ends (``stop_shared_postgres_server``). Returns the server's folder."""
    with open(shared / "postgres.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = shared / SHARED_SERVER
        if not record.exists():
            base, data = start_server()
            record.write_text(json.dumps({"base": base, "data": data}), encoding="utf-8")
    return json.loads(record.read_text(encoding="utf-8"))["base"]


def stop_shared_postgres_server(shared: Path) -> None:
    record = shared / SHARED_SERVER
    if record.exists():
        server = json.loads(record.read_text(encoding="utf-8"))
        stop_server(server["base"], server["data"])
        record.unlink()


# Per server: the database every PostgreSQL test's database is copied from, migrated once per
# run (by the first test process to need it; the others wait on its lock).
# tests/core/test_migrations.py migrates down and up on PostgreSQL itself.
_templates: dict[str, str] = {}
TEMPLATE = "forms_template"


def _admin_engine(postgres_url: str):
    """The server's superuser on its ``postgres`` database."""
    parts = urlsplit(database_url(postgres_url, "postgres"))
    url = parts._replace(netloc=f"postgres@{parts.hostname or ''}").geturl()
    return create_engine(
        url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )


def _server_folder(postgres_url: str) -> Path:
    return Path(parse_qs(urlsplit(postgres_url).query)["host"][0])


def _migrated_template(postgres_url: str, instance_path: Path, monkeypatch) -> str:
    """A database with every migration applied, made once per server."""
    folder = _server_folder(postgres_url)
    if str(folder) in _templates:
        return _templates[str(folder)]
    with open(folder / "template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = folder / "template.done"
        if not done.exists():
            _migrate_template(postgres_url, instance_path, monkeypatch)
            done.write_text(TEMPLATE, encoding="utf-8")
    _templates[str(folder)] = TEMPLATE
    return TEMPLATE


def _migrate_template(postgres_url: str, instance_path: Path, monkeypatch) -> None:
    from flask_migrate import upgrade

    from forms_app import create_app
    from forms_app.core.extensions import db

    engine = _admin_engine(postgres_url)
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {TEMPLATE} OWNER {APP_ROLE}"))
    engine.dispose()
    with monkeypatch.context() as patch:
        patch.setenv("INSTANCE_PATH", str(instance_path))
        patch.setenv("DATABASE_URL", as_app_role(database_url(postgres_url, TEMPLATE)))
        template_app = create_app(dict(TEST_CONFIG))
        with template_app.app_context():
            upgrade()
            db.session.remove()
            db.engine.dispose()  # no connection left: a template must have none


def fresh_database(postgres_url: str, instance_path: Path, monkeypatch) -> None:
    """The URL's database (``forms``; ``forms_gw0``… one per test process under xdist) anew
    as a copy of the migrated template (much faster than migrating down and up for every
    test)."""
    template = _migrated_template(postgres_url, instance_path, monkeypatch)
    engine = _admin_engine(postgres_url)
    name = urlsplit(postgres_url).path.lstrip("/")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {template} OWNER {APP_ROLE}"))
    engine.dispose()


@contextmanager
def app_on_postgres(postgres_url: str, instance_path: Path, monkeypatch, **config):
    """The app, connected as the app's role, on a freshly migrated PostgreSQL database (a copy
    of the migrated template). ``app.config["PG_URL"]`` is the superuser's, for a test's own
    look at every row."""
    from forms_app import create_app
    from forms_app.core.extensions import db

    fresh_database(postgres_url, instance_path, monkeypatch)
    monkeypatch.setenv("INSTANCE_PATH", str(instance_path))
    monkeypatch.setenv("DATABASE_URL", as_app_role(postgres_url))
    app = create_app({**TEST_CONFIG, **config})
    app.config["PG_URL"] = postgres_url.replace("postgresql://", "postgresql+psycopg://")
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def wait_for_blocked(connection, count: int, timeout: float = 15.0) -> None:
    """Wait until ``count`` other sessions of this database wait on a lock (``pg_locks`` not
    granted), so a test lets go of a held row only once the concurrent requests are really
    queued behind it. (Other test processes use other databases of the same server.)"""
    import time

    deadline = time.monotonic() + timeout
    while True:
        # pg_stat_activity is read once per transaction unless the snapshot is dropped, and the
        # connection may be inside one (holding the row the others wait on).
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
                " WHERE NOT granted AND datname = current_database()"
            )
        ).scalar()
        if waiting >= count:
            return
        assert time.monotonic() < deadline, f"only {waiting} of {count} sessions reached the lock"
        time.sleep(0.02)
