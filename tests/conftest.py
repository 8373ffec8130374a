"""Shared fixtures: the app on a real SQLite file, a real gunicorn server, a real browser.

Domain fixtures live beside their tests (``tests/<domain>/conftest.py``).
"""

from __future__ import annotations

import copy
import filecmp
import gc
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from forms_app import create_app
from forms_app.core.extensions import db
from tests.support.apps import TEST_CONFIG
from tests.support.browser import (
    LAUNCH_ARGS,
    PHONE,
    chromium_or_skip,
    guard_outside_hosts,
)
from tests.support.fuzz import watch_nul
from tests.support.launcher import close_launcher
from tests.support.once import once_per_run
from tests.support.postgres import (
    create_database,
    postgres_server,
    server_url,
    shared_postgres_server,
    stop_shared_postgres_server,
)
from tests.support.server import PROJECT_ROOT, LiveServer
from tests.support.staff import (
    PASSWORD,
    ROLE_USERS,
    create_role_accounts,
    create_staff,
    login,
)

HANDBOOK_READER = "handbook"
DEFAULT_COMMUNITY = "shanshui"  # data/communities/shanshui.yml, the first community

# The staff handbook's sections, rendered once for the whole run and kept for every process
# that starts the app (test processes, servers, commands): forms_app/training/handbook_sections.py.
os.environ.setdefault("HANDBOOK_CACHE_DIR", str(PROJECT_ROOT / "build" / "handbook-cache"))
# The templates, compiled once for the whole run and kept for every process that renders them
# (forms_app/web/compiled_templates.py).
os.environ.setdefault("TEMPLATE_CACHE_DIR", str(PROJECT_ROOT / "build" / "template-cache"))
# The run's temporary files (every test's SQLite file, uploads, the live servers' instance
# folders, PostgreSQL's data) go to memory when the machine has room there: the same files and
# the same SQLite settings, without waiting on the disk for each commit's fsync (a third of some
# modules' time). TMPDIR set by the caller wins; test processes and servers inherit it.
SHARED_MEMORY = Path("/dev/shm")
ROOM_NEEDED = 2 * 1024**3


def _shared_memory_has_room() -> bool:
    try:
        found = os.statvfs(SHARED_MEMORY)
    except OSError:
        return False
    return os.access(SHARED_MEMORY, os.W_OK) and found.f_bavail * found.f_frsize >= ROOM_NEEDED


if "TMPDIR" not in os.environ and _shared_memory_has_room():
    os.environ["TMPDIR"] = str(SHARED_MEMORY)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again

# mkdocs-material sets this variable to "true" when a process first imports it: set so from the
# start, no test sees the environment change under it (test_module_app's shared app).
os.environ["NO_MKDOCS_2_WARNING"] = "true"


DATABASE_FILE = "forms.sqlite3"


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """A SQLite file with every migration applied, made once per run; each test (and each
    live server) copies it."""
    from flask_migrate import upgrade

    def migrate(folder: Path) -> Path:
        instance = folder / "instance"
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("INSTANCE_PATH", str(instance))
            template_app = create_app(dict(TEST_CONFIG))
            with template_app.app_context():
                upgrade()
                db.session.remove()
                db.engine.dispose()  # the last connection closes: the WAL is folded into the file
        return instance / DATABASE_FILE

    return once_per_run(tmp_path_factory, "template", migrate)


@pytest.fixture
def app(request, tmp_path, monkeypatch, migrated_database):
    """The app on its own SQLite file (a copy of the migrated template) in a temporary
    instance folder.

    In a module marked ``one_app_per_module`` the app object is made once for the module and
    every test gets it back as a new one would be: the settings it was made with, the template
    database copied in again, nothing left in its instance folder by the tests before. A test
    that changed the environment the app reads its settings from (``monkeypatch.setenv``
    before the app is made) gets an app of its own, made in that environment."""
    if request.node.get_closest_marker("one_app_per_module"):
        shared = request.getfixturevalue("module_app")
    else:
        shared = None
    if shared is not None and shared.environ == app_environ():
        shared.renew(migrated_database)
        monkeypatch.setenv("INSTANCE_PATH", shared.app.instance_path)
        yield shared.app
        return
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copyfile(migrated_database, instance / DATABASE_FILE)
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    app = create_app(dict(TEST_CONFIG))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def app_environ() -> dict:
    """The environment create_app reads, but for what the ``app`` fixture sets itself."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in ("INSTANCE_PATH", "PYTEST_CURRENT_TEST")
    }


@dataclass
class ModuleApp:
    """One app object for a module's tests, renewed before each (see ``app``)."""

    app: object
    made: frozenset  # every path in the instance folder right after create_app
    config: dict
    environ: dict  # the environment it was made in
    snapshots: dict = field(default_factory=dict)  # {name: (folder, what seed returned)}
    template: Path | None = None  # the database file the last renew copied

    def _close(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()  # no connection left on the file about to be replaced

    def _clear(self) -> None:
        instance = Path(self.app.instance_path)
        for path in sorted(instance.rglob("*"), reverse=True):
            if path not in self.made:
                path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()

    def renew(self, template: Path) -> None:
        self._close()
        self.app.config.clear()
        self.app.config.update(copy.deepcopy(self.config))
        self._clear()
        shutil.copyfile(template, Path(self.app.instance_path) / DATABASE_FILE)
        self.template = template

    def untouched(self) -> bool:
        """Nothing stored since the test began: the database is still the template's bytes and
        the instance folder holds nothing else (a fixture may seed a shared state only then)."""
        self._close()
        instance = Path(self.app.instance_path)
        database = instance / DATABASE_FILE
        others = {p for p in instance.rglob("*") if p not in self.made and p != database}
        return not others and filecmp.cmp(database, self.template, shallow=False)

    def seeded_if_untouched(self, app, name: str, seed):
        """``seeded(app, name, seed)`` when the test has stored nothing yet (``untouched``): a
        fixture's shared state is made only on the template's database. Otherwise (another
        fixture stored first, or the test has an app of its own) just ``seed()``."""
        if app is self.app and self.untouched():
            return self.seeded(app, name, seed)
        return seed()

    def seeded(self, app, name: str, seed):
        """What ``seed()`` makes (its database and instance folder) for every test of the
        module that asks, made once: the first test runs ``seed()`` and the state it leaves is
        kept; the next ones get that state copied back in. Returns what ``seed()`` returned.
        A test given an app of its own (see ``app``) just runs ``seed()``."""
        if app is not self.app:
            return seed()
        instance = Path(self.app.instance_path)
        if name in self.snapshots:
            folder, made = self.snapshots[name]
            self._close()
            self._clear()
            shutil.copytree(folder, instance, dirs_exist_ok=True)
            return made
        made = seed()
        self._close()
        folder = Path(tempfile.mkdtemp(prefix=f"seeded-{name}-", dir=instance.parent))
        shutil.copytree(instance, folder, dirs_exist_ok=True)
        self.snapshots[name] = (folder, made)
        return made


@pytest.fixture(scope="module")
def module_app(tmp_path_factory, migrated_database):
    instance = tmp_path_factory.mktemp("module-app") / "instance"
    instance.mkdir()
    shutil.copyfile(migrated_database, instance / DATABASE_FILE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INSTANCE_PATH", str(instance))
        app = create_app(dict(TEST_CONFIG))
        # After create_app: a library it imports may set a variable of its own (MkDocs's
        # NO_MKDOCS_2_WARNING), and every later test would otherwise seem to have changed it.
        environ = app_environ()
    made = frozenset(instance.rglob("*"))
    yield ModuleApp(app, made, copy.deepcopy(dict(app.config)), environ)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def own_community_file(tmp_path) -> Path:
    """A company's own community file: the example's values with the example flag removed, and
    its own fee file beside it (named by ``fees_file``), also without the flag."""
    import yaml

    from forms_app.core.community import DEFAULT_COMMUNITY_FILE, load_community
    from forms_app.core.fee_standards import fee_file_for

    raw = yaml.safe_load(DEFAULT_COMMUNITY_FILE.read_text(encoding="utf-8"))
    raw.pop("example")
    fees = yaml.safe_load(fee_file_for(load_community(DEFAULT_COMMUNITY_FILE)).read_text("utf-8"))
    fees.pop("example")
    fees_path = tmp_path / "own-fees.yml"
    fees_path.write_text(yaml.safe_dump(fees, allow_unicode=True), encoding="utf-8")
    raw["fees_file"] = str(fees_path)
    path = tmp_path / "own-community.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def staff_accounts(request, app):
    """One account per role; usernames are the role codes. In a ``one_app_per_module`` module
    the accounts are made once and their database copied back for each test that asks for
    them before anything else was stored."""

    def seed():
        create_role_accounts(app, ROLE_USERS, PASSWORD)
        return ROLE_USERS

    if request.node.get_closest_marker("one_app_per_module"):
        return request.getfixturevalue("module_app").seeded_if_untouched(
            app, "staff_accounts", seed
        )
    return seed()


@pytest.fixture
def as_role(app, staff_accounts):
    """A test client logged in with the given role (the accounts of ``staff_accounts``)."""

    def _client(role):
        client = app.test_client()
        assert login(client, staff_accounts[role], PASSWORD).status_code == 302
        return client

    return _client


@pytest.fixture
def nul_sent_to_database(app):
    """Statements that sent a NUL character to the database (``tests/support/fuzz.py``)."""
    with app.app_context():
        engine = db.engine
    with watch_nul(engine) as sent:
        yield sent


def build_handbook(config: str, out: Path, **env: str) -> Path:
    """One half of the handbook built with ``mkdocs build --strict`` into ``out``."""
    subprocess.run(
        [
            str(Path(sys.executable).parent / "mkdocs"),
            "build",
            "--strict",
            "--quiet",
            "-f",
            config,
            "--site-dir",
            str(out),
        ],
        cwd=PROJECT_ROOT,
        check=True,
        env={**os.environ, **env},
    )
    return out


@pytest.fixture(scope="session")
def built_sites(tmp_path_factory) -> Path:
    """``make site``'s output in the checkout (site/<id>/, site-staff/<id>/ for every community),
    brought up to date once per run by ``scripts/build_sites.py``: it rebuilds only what changed
    since the last build (a digest of every input, ``.inputs``), so a run after an edit to a
    Python file builds nothing. ``make run`` (tests/core/test_make_run_postgres.py) then finds
    the same builds up to date."""

    def build(_folder: Path) -> Path:
        subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "build_sites.py")],
            cwd=PROJECT_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return PROJECT_ROOT

    return once_per_run(tmp_path_factory, "sites", build)


@pytest.fixture(scope="session")
def built_site(built_sites) -> Path:
    """The default community's public owner site (``mkdocs.yml``)."""
    return built_sites / "site" / DEFAULT_COMMUNITY


@pytest.fixture(scope="session")
def built_staff_site(built_sites) -> Path:
    """The default community's staff handbook (``mkdocs-staff.yml``)."""
    return built_sites / "site-staff" / DEFAULT_COMMUNITY


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, built_site, built_staff_site, migrated_database):
    """One gunicorn process (2 workers) serving both halves of the handbook and the app for
    the session; its staff account ``handbook`` (role 客服) may open the staff half."""
    server = LiveServer(
        tmp_path_factory.mktemp("live") / "instance",
        site_dir=built_site,
        staff_site_dir=built_staff_site,
        database_template=migrated_database,
    )
    server.start()
    create_staff(server, HANDBOOK_READER, "客服")
    yield server
    server.stop()


@dataclass
class NginxStack:
    """Production's shape on loopback: nginx (deploy/nginx.conf) serving the built halves in
    front of gunicorn, which serves only /forms (SERVE_SITE=0, PROXY_COUNT=1)."""

    nginx: object
    app: LiveServer

    @property
    def url(self) -> str:
        return self.nginx.url


@pytest.fixture(scope="session")
def nginx_stack(tmp_path_factory, built_site, built_staff_site, migrated_database):
    """nginx in front of gunicorn for the session; skipped without nginx, except under CI."""
    from tests.support.nginx import nginx_or_skip, start_nginx

    nginx_or_skip()
    app = LiveServer(
        tmp_path_factory.mktemp("behind-nginx") / "instance",
        extra_env={"PROXY_COUNT": "1"},
        database_template=migrated_database,
    )
    app.start()
    try:
        create_staff(app, HANDBOOK_READER, "客服")
        nginx = start_nginx(
            tmp_path_factory.mktemp("nginx"),
            app_port=app.port,
            site=built_site,
            staff_site=built_staff_site,
        )
    except BaseException:
        app.stop()
        raise
    yield NginxStack(nginx, app)
    nginx.stop()
    app.stop()


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A throw-away PostgreSQL server for the run (skipped without one, except under CI).
    Under xdist one server serves every test process, each in a database of its own
    (``forms_gw0``…)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        with postgres_server() as url:
            yield url
        return
    base = shared_postgres_server(tmp_path_factory.getbasetemp().parent)
    url = create_database(server_url(base, f"forms_{worker}"))
    yield url


def pytest_sessionfinish(session):
    """Each process ends its launcher (tests/support/launcher.py). The controller of an xdist
    run stops the run's PostgreSQL server, if one was started,
    and keeps each file's seconds for the next run's order (from a run without failures;
    a run of some files updates theirs)."""
    config = session.config
    close_launcher()  # this process's launcher of app commands, if it started one
    if hasattr(config, "workerinput"):
        # What the tests left goes with the process. pytest's last garbage collection (made to
        # report what a finalizer raises) spent one to two seconds walking it in each test
        # process, at the very end of the run; frozen, it is not walked. Unraisable exceptions
        # of the tests themselves are still reported after each test.
        gc.freeze()
        return
    if hasattr(config, "_tmp_path_factory"):
        stop_shared_postgres_server(config._tmp_path_factory.getbasetemp())
    cache = getattr(config, "cache", None)
    if cache is not None and _module_seconds and session.testsfailed == 0:
        kept = cache.get(MODULE_SECONDS, {})
        kept.update({name: round(value, 2) for name, value in _module_seconds.items()})
        cache.set(MODULE_SECONDS, kept)


@pytest.fixture(scope="session")
def camera_jpeg(tmp_path_factory):
    """``camera_jpeg(path)``: a copy at ``path`` of a 12 MB phone-camera JPEG
    (tests/support/photos.py), drawn once per run: drawing one takes seconds of CPU."""
    from tests.support.photos import camera_photo

    drawn = once_per_run(
        tmp_path_factory, "camera", lambda folder: camera_photo(folder / "camera.jpg", 12)
    )

    def _copy(path: Path) -> Path:
        shutil.copyfile(drawn, path)
        return path

    return _copy


@pytest.fixture(scope="session")
def browser():
    path = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    # expect(…) waits as long as an action does (the pages' 15 s below), not Playwright's 5 s:
    # on a machine busy with other work a page's answer can take longer than 5 s. A check that
    # holds returns at once either way.
    expect.set_options(timeout=15_000)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    """A phone-sized page; the test fails if the page asks any host but this machine."""
    context = browser.new_context(**PHONE)
    blocked: list[str] = []
    guard_outside_hosts(context, blocked)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
    assert not blocked, f"requests to outside hosts: {blocked}"


@pytest.fixture
def desktop(browser):
    """An office-PC-sized page with the same outside-host guard."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    blocked: list[str] = []
    guard_outside_hosts(context, blocked)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
    assert not blocked, f"requests to outside hosts: {blocked}"


MODULE_SECONDS = "forms/module-seconds"  # pytest's cache: each test file's seconds, last run


def pytest_collection_modifyitems(config, items):
    """Under xdist the files are handed to the test processes in this order (``--dist loadfile
    --no-loadscope-reorder``): the longest first, so that the last ones handed out are short
    and no process runs alone at the end while the others have finished. How long a file takes
    is what it took in the last run (kept in pytest's cache by ``pytest_sessionfinish``); a run
    without that record (a fresh clone) takes the modules marked ``long_module`` first, then
    the files with the most tests, as xdist's own reordering does."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    cache = getattr(config, "cache", None)
    seconds = cache.get(MODULE_SECONDS, {}) if cache is not None else {}
    known = [seconds[name] for name in files if name in seconds]
    timed = len(known) >= 0.9 * len(files)
    average = sum(known) / len(known) if known else 0.0  # a file new since the last run

    def rank(file: tuple[str, list]) -> tuple:
        name, tests = file
        if timed:
            return (-seconds.get(name, average),)
        return (tests[0].get_closest_marker("long_module") is None, -len(tests))

    items[:] = [item for _, tests in sorted(files.items(), key=rank) for item in tests]


_module_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """The controller adds up each file's setup, call and teardown times as reports come in."""
    name = report.nodeid.split("::")[0]
    _module_seconds[name] = _module_seconds.get(name, 0.0) + report.duration


def pytest_collection_finish(session):
    """What the process holds once the tests are collected (the app's modules, the tests) stays
    for the run: frozen, the garbage collector stops walking it, and it runs less often. About a
    tenth of a test process's time, measured on the staff fuzz and renovation workflow modules."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one test process more than the machine has cores. A third of the suite's
    time is spent waiting (on the browser, live servers, worker processes, PostgreSQL locks),
    so a process per core leaves the cores idle that long."""
    return (os.cpu_count() or 1) + 1
