"""Operations commands: consistent backups and restores of the database and the uploads.

``flask --app forms_app backup`` writes one ``.tar.gz`` holding the database (an online
snapshot of SQLite through its backup API, or ``pg_dump`` for PostgreSQL) and the upload
folder; ``flask --app forms_app restore ARCHIVE --yes`` puts both back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from ..core.community_scope import every_community
from ..core.extensions import db
from ..core.private_files import create_private, make_private, private_dir
from ..core.row_security import BYPASS_SETTING

DB_MEMBER_SQLITE = "database.sqlite3"
DB_MEMBER_POSTGRES = "database.pgdump"
UPLOADS_MEMBER = "uploads"


def _database_url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _pg_conninfo(url) -> str:
    """The URL for libpq without its password: a command line is visible to every user."""
    # URL.set() ignores None; URL is a named tuple, so _replace() can drop the password.
    return url.set(drivername="postgresql")._replace(password=None).render_as_string()


def _passfile_line(password: str) -> str:
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"*:*:*:*:{escaped}\n"


def _run_pg(url, command: list[str]) -> None:
    """Run pg_dump or pg_restore on the database of ``url``. The password goes through a
    temporary 0600 password file (PGPASSFILE), never the command line or the environment.

    Both work on every community's rows: the owner the app connects as is held by the tables'
    forced row-level security (core/row_security.py), so the session is started with its
    way around turned on, and pg_dump reads with row security on (else it refuses a table
    that has it)."""
    with tempfile.TemporaryDirectory() as secrets_dir, every_community("备份或恢复数据库"):
        env = dict(os.environ)
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c {BYPASS_SETTING}=on".strip()
        if url.password:
            passfile = Path(secrets_dir) / "pgpass"
            with create_private(passfile) as handle:
                handle.write(_passfile_line(url.password).encode())
            env["PGPASSFILE"] = str(passfile)
        subprocess.run([*command, "--dbname", _pg_conninfo(url)], check=True, env=env)


def _sqlite_copy(source_path, target_path) -> None:
    """Copy one SQLite database into another with the backup API: a consistent snapshot, even
    while the app keeps writing to the source."""
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target)
    finally:
        source.close()
        target.close()


def _make_tree_private(folder: Path) -> None:
    """Restored uploads keep the modes in the archive: make them private again."""
    private_dir(folder)
    for parent, subfolders, files in os.walk(folder):
        for name in subfolders:
            private_dir(Path(parent) / name)
        for name in files:
            make_private(Path(parent) / name)


@dataclass
class Backup:
    """A written archive, and the uploads that were deleted while it was being written."""

    archive: Path
    vanished: list[str] = field(default_factory=list)


def _add_uploads(tar: tarfile.TarFile, uploads: Path) -> list[str]:
    """Add the upload folder file by file; return the names of files that vanished meanwhile.

    Files come and go while the app runs: a refused or abandoned submission deletes the files
    it had written. Such a file was never part of anything acknowledged, so it is skipped
    (and reported) instead of failing the whole backup.
    """
    vanished = []
    tar.add(uploads, arcname=UPLOADS_MEMBER, recursive=False)
    for folder, subfolders, files in os.walk(uploads):
        subfolders.sort()
        for name in subfolders + sorted(files):
            path = Path(folder) / name
            arcname = str(Path(UPLOADS_MEMBER) / path.relative_to(uploads))
            try:
                tar.add(path, arcname=arcname, recursive=False)
            except FileNotFoundError:
                vanished.append(arcname)
    return vanished


def create_backup(output_dir: Path) -> Backup:
    """Write a private backup archive into ``output_dir``; a failed one leaves no file."""
    url = _database_url()
    if not output_dir.exists():
        private_dir(output_dir)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    archive = output_dir / f"backup-{stamp}.tar.gz"
    partial = archive.with_suffix(".partial")
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        if url.get_backend_name() == "sqlite":
            db_file = work / DB_MEMBER_SQLITE
            _sqlite_copy(url.database, db_file)
        else:
            db_file = work / DB_MEMBER_POSTGRES
            _run_pg(
                url,
                ["pg_dump", "--format=custom", "--enable-row-security", "--file", str(db_file)],
            )
        handle = create_private(partial)  # exclusive: never another backup's partial file
        try:
            with handle, tarfile.open(fileobj=handle, mode="w:gz") as tar:
                tar.add(db_file, arcname=db_file.name)
                uploads = Path(current_app.config["UPLOAD_DIR"])
                vanished = _add_uploads(tar, uploads) if uploads.is_dir() else []
            partial.rename(archive)  # never leave a half-written archive under the final name
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return Backup(archive, vanished)


def restore_backup(archive: Path) -> None:
    """Replace the database and the uploads with those of ``archive``."""
    url = _database_url()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(work, filter="data")
        db.session.remove()
        db.engine.dispose()
        if url.get_backend_name() == "sqlite":
            snapshot = work / DB_MEMBER_SQLITE
            if not snapshot.exists():
                raise click.ClickException("备份文件中没有 SQLite 数据库，无法恢复。")
            _sqlite_copy(snapshot, url.database)
        else:
            dump = work / DB_MEMBER_POSTGRES
            if not dump.exists():
                raise click.ClickException("备份文件中没有 PostgreSQL 数据，无法恢复。")
            _run_pg(url, ["pg_restore", "--clean", "--if-exists", "--no-owner", str(dump)])
        uploads = Path(current_app.config["UPLOAD_DIR"])
        restored = work / UPLOADS_MEMBER
        if restored.is_dir():
            if uploads.exists():
                shutil.rmtree(uploads)
            shutil.copytree(restored, uploads)
            _make_tree_private(uploads)


@click.command("backup")
@click.option(
    "--output",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the archive (default: instance/backups).",
)
@with_appcontext
def backup_command(output_dir: Path | None):
    """Back up the database and the uploaded files into one archive."""
    backup = create_backup(output_dir or Path(current_app.instance_path) / "backups")
    for name in backup.vanished:
        click.echo(f"已跳过（备份过程中已被删除，属于未完成的提交）: {name}")
    click.echo(f"备份完成: {backup.archive}")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that current data will be replaced.")
@with_appcontext
def restore_command(archive: Path, yes: bool):
    """Restore the database and uploads from a backup archive (stop the app first)."""
    if not yes:
        raise click.ClickException(
            "恢复会覆盖当前全部数据。请先停止服务，确认后加 --yes 重新运行。"
        )
    restore_backup(archive)
    click.echo(f"已从 {archive} 恢复数据。")
