"""The migrations form one line from base to head whose file names sort in run order, the
revision ids databases are stamped with stay on it, and ``flask db upgrade`` is a no-op on a
database already at the head. See forms_app/migrations/README."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import func, inspect, select, text

from forms_app import MIGRATIONS_DIR, create_app
from forms_app.accounts.models import StaffUser
from forms_app.core.extensions import db
from tests.support.apps import TEST_CONFIG
from tests.support.staff import create_staff

# The first eleven migrations in run order: file name and the revision id databases are stamped
# with. Files 0007-0011 were renamed into run order and kept their old revision ids.
HISTORICAL_CHAIN = (
    ("0001_base.py", "0001_base"),
    ("0002_renovation.py", "0002_renovation"),
    ("0003_staff.py", "0003_staff"),
    ("0004_surveys.py", "0004_surveys"),
    ("0005_move_in.py", "0005_move_in"),
    ("0006_cleaning.py", "0006_cleaning"),
    ("0007_notifications.py", "0009_notifications"),
    ("0008_staff_tools.py", "0011_staff_tools"),
    ("0009_owner_forms.py", "0010_owner_forms"),
    ("0010_service_requests.py", "0008_service_requests"),
    ("0011_training.py", "0007_training"),
)
NUMBERED_FILE = re.compile(r"(\d{4})_[a-z0-9_]+\.py")
REVISION_ID_LINE = re.compile(r"^Revision ID:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
REVISES_LINE = re.compile(r"^Revises:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
README_HEAD = re.compile(r"down_revision is the current head: today (\S+?),")


def chain_problems(migrations_dir: str | Path) -> list[str]:
    """What is wrong with the migration chain of ``migrations_dir`` (the folder holding
    ``versions/``); empty when nothing is.

    Wrong: more than one head or base, a branch point or a merge, a file name that does not sort
    in run order or is not numbered 0001, 0002, ... along the chain, a revision id PostgreSQL's
    alembic_version cannot hold (over 32 characters), a docstring whose
    "Revision ID:" or "Revises:" line does not name the file's revision or down_revision."""
    scripts = ScriptDirectory(str(migrations_dir))
    revisions = list(scripts.walk_revisions())  # every revision, heads first
    problems = []
    heads = scripts.get_heads()
    if len(heads) != 1:
        problems.append(f"{len(heads)} heads: {', '.join(sorted(heads))}")
    bases = scripts.get_bases()
    if len(bases) != 1:
        problems.append(f"{len(bases)} bases: {', '.join(sorted(bases))}")
    for revision in revisions:
        name = Path(revision.path).name
        if revision.is_branch_point:
            followers = ", ".join(sorted(revision.nextrev))
            problems.append(f"branch point at {revision.revision} ({name}): {followers} follow it")
        if revision.is_merge_point:
            problems.append(f"merge at {revision.revision} ({name})")
        if len(revision.revision) > 32:  # alembic_version.version_num is VARCHAR(32)
            problems.append(f"{name}: revision id {revision.revision!r} is over 32 characters")
        problems.extend(docstring_problems(revision))
    if (
        len(heads) != 1
        or len(bases) != 1
        or any(revision.is_branch_point or revision.is_merge_point for revision in revisions)
    ):
        return problems  # no single run order to hold the file names against

    run_order = [Path(revision.path).name for revision in reversed(revisions)]
    if run_order != sorted(run_order):
        problems.append(f"file names do not sort in run order: {', '.join(run_order)}")
    for number, name in enumerate(run_order, start=1):
        match = NUMBERED_FILE.fullmatch(name)
        if not match or int(match.group(1)) != number:
            problems.append(f"{name} runs as number {number}: its name should start {number:04d}_")
    return problems


def docstring_problems(revision: Script) -> list[str]:
    """The docstring's "Revision ID:" and "Revises:" lines against the module's values."""
    name = Path(revision.path).name
    doc = revision.module.__doc__ or ""
    down = revision.down_revision
    revises = "" if down is None else down if isinstance(down, str) else ", ".join(down)
    problems = []
    for label, pattern, expected in (
        ("Revision ID", REVISION_ID_LINE, revision.revision),
        ("Revises", REVISES_LINE, revises),
    ):
        found = pattern.findall(doc)
        if found != [expected]:
            problems.append(f"{name}: docstring says {label}: {found}, the module {expected!r}")
    return problems


def run_order(migrations_dir: str | Path) -> list[Script]:
    scripts = ScriptDirectory(str(migrations_dir))
    return list(reversed(list(scripts.walk_revisions())))


def head_of(migrations_dir: str | Path) -> str:
    return ScriptDirectory(str(migrations_dir)).get_current_head()


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema() -> list[tuple]:
    """Every table, index and trigger of the SQLite database as its CREATE statement."""
    with db.engine.connect() as connection:
        return connection.execute(
            text("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        ).all()


def write_migration(
    migrations_dir: Path, file_name: str, revision: str, down_revision: str, revises_line: str
) -> None:
    (migrations_dir / "versions" / file_name).write_text(
        f'"""A test migration.\n\nRevision ID: {revision}\nRevises: {revises_line}\n"""\n\n'
        f"revision = {revision!r}\ndown_revision = {down_revision!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
        encoding="utf-8",
    )


def next_name(migrations_dir) -> str:
    """The revision id the next migration gets: the number after the last file's."""
    return f"{len(run_order(migrations_dir)) + 1:04d}_next"


@pytest.fixture
def migrations_copy(tmp_path) -> Path:
    """A copy of forms_app/migrations to add or rename files in."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_chain_is_one_line_in_file_name_order():
    assert chain_problems(MIGRATIONS_DIR) == []


def test_the_historical_revision_ids_keep_their_places():
    """Databases are stamped with these ids: each keeps its down_revision and place in the run."""
    kept = [(Path(script.path).name, script.revision) for script in run_order(MIGRATIONS_DIR)]
    assert tuple(kept[: len(HISTORICAL_CHAIN)]) == HISTORICAL_CHAIN


def test_the_readme_names_the_current_head():
    readme = (Path(MIGRATIONS_DIR) / "README").read_text(encoding="utf-8")
    assert README_HEAD.findall(readme) == [head_of(MIGRATIONS_DIR)]


def test_the_next_migration_on_the_head_keeps_one_line(migrations_copy):
    head, name = head_of(migrations_copy), next_name(migrations_copy)
    write_migration(migrations_copy, f"{name}.py", name, head, head)
    assert chain_problems(migrations_copy) == []


def test_a_second_head_is_caught(migrations_copy):
    """The mistake the old numbering invited: a new file put on 0011_staff_tools, which is not the
    head."""
    name = next_name(migrations_copy)
    write_migration(migrations_copy, f"{name}.py", name, "0011_staff_tools", "0011_staff_tools")
    problems = chain_problems(migrations_copy)
    heads = sorted([name, head_of(MIGRATIONS_DIR)])
    assert f"2 heads: {heads[0]}, {heads[1]}" in problems
    assert any(problem.startswith("branch point at 0011_staff_tools") for problem in problems)


def test_a_file_name_out_of_run_order_is_caught(migrations_copy):
    versions = migrations_copy / "versions"
    (versions / "0008_staff_tools.py").rename(versions / "0013_staff_tools.py")
    problems = chain_problems(migrations_copy)
    assert any(problem.startswith("file names do not sort in run order") for problem in problems)
    assert "0013_staff_tools.py runs as number 8: its name should start 0008_" in problems


def test_an_untrue_revises_line_is_caught(migrations_copy):
    head, name = head_of(migrations_copy), next_name(migrations_copy)
    write_migration(migrations_copy, f"{name}.py", name, head, "0011_staff_tools")
    assert chain_problems(migrations_copy) == [
        f"{name}.py: docstring says Revises: ['0011_staff_tools'], the module {head!r}"
    ]


def test_a_database_at_the_head_upgrades_without_change(app):
    """A database stamped with the head's revision id (as every deployed
    database is) stays there: ``flask db upgrade`` succeeds and changes nothing."""
    create_staff(app, "kept", "客服")
    with app.app_context():
        assert current_revision() == head_of(MIGRATIONS_DIR)
        before = schema()
        db.engine.dispose()

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output

    with app.app_context():
        assert current_revision() == head_of(MIGRATIONS_DIR)
        assert schema() == before
        assert db.session.scalar(select(func.count(StaffUser.id))) == 1


def test_a_fresh_database_upgrades_from_base_to_head(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    app = create_app(dict(TEST_CONFIG))
    try:
        with app.app_context():
            assert current_revision() is None
            assert inspect(db.engine).get_table_names() == []

        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output

        with app.app_context():
            assert current_revision() == head_of(MIGRATIONS_DIR)
            tables = set(inspect(db.engine).get_table_names())
            assert tables == set(db.metadata.tables) | {"alembic_version"}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_database_deployed_before_the_organisation_upgrades_with_its_accounts(app):
    """Databases deployed at 0007_training (the head before 0012_organisation) keep every
    account: the organisation's columns come in empty (not placed yet)."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "downgrade", "0007_training"]).exit_code == 0
    with app.app_context():
        assert current_revision() == "0007_training"
        db.session.execute(
            text(
                "INSERT INTO staff_user (username, display_name, role, password_hash, active,"
                " created_at) VALUES ('old', '老员工', 'service', 'x', 1, '2026-11-01')"
            )
        )
        db.session.commit()
        db.engine.dispose()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert current_revision() == head_of(MIGRATIONS_DIR)
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == "old"))
        assert (user.department, user.is_head, user.mobile, user.areas) == (None, False, None, [])
