"""Operations commands: consistent backups and restores of the database and the uploads.

``flask --app forms_app backup`` writes one ``.tar.gz`` holding the database (an online
snapshot of SQLite through its backup API, or ``pg_dump`` for PostgreSQL) and the upload
folder; ``flask --app forms_app restore ARCHIVE --yes`` puts both back.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from .extensions import db

DB_MEMBER_SQLITE = "database.sqlite3"
DB_MEMBER_POSTGRES = "database.pgdump"
UPLOADS_MEMBER = "uploads"


def _database_url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _pg_conninfo(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


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


def create_backup(output_dir: Path) -> Path:
    """Write a backup archive into ``output_dir`` and return its path."""
    url = _database_url()
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    archive = output_dir / f"backup-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        if url.get_backend_name() == "sqlite":
            db_file = work / DB_MEMBER_SQLITE
            _sqlite_copy(url.database, db_file)
        else:
            db_file = work / DB_MEMBER_POSTGRES
            subprocess.run(
                ["pg_dump", "--format=custom", "--file", str(db_file), _pg_conninfo(url)],
                check=True,
            )
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(db_file, arcname=db_file.name)
            uploads = Path(current_app.config["UPLOAD_DIR"])
            if uploads.is_dir():
                tar.add(uploads, arcname=UPLOADS_MEMBER)
        partial.rename(archive)  # never leave a half-written archive under the final name
    return archive


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
            subprocess.run(
                ["pg_restore", "--clean", "--if-exists", "--no-owner",
                 "--dbname", _pg_conninfo(url), str(dump)],
                check=True,
            )
        uploads = Path(current_app.config["UPLOAD_DIR"])
        restored = work / UPLOADS_MEMBER
        if restored.is_dir():
            if uploads.exists():
                shutil.rmtree(uploads)
            shutil.copytree(restored, uploads)


@click.command("backup")
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the archive (default: instance/backups).")
@with_appcontext
def backup_command(output_dir: Path | None):
    """Back up the database and the uploaded files into one archive."""
    archive = create_backup(output_dir or Path(current_app.instance_path) / "backups")
    click.echo(f"备份完成: {archive}")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that current data will be replaced.")
@with_appcontext
def restore_command(archive: Path, yes: bool):
    """Restore the database and uploads from a backup archive (stop the app first)."""
    if not yes:
        raise click.ClickException("恢复会覆盖当前全部数据。请先停止服务，确认后加 --yes 重新运行。")
    restore_backup(archive)
    click.echo(f"已从 {archive} 恢复数据。")


def init_app(app) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
