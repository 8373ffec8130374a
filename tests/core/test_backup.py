"""A backup taken while the app runs restores the database and the uploads exactly; it copes
with uploads that come and go, leaves nothing behind when it fails, and stays private."""

import errno
import stat
import tarfile
import threading
from pathlib import Path

from sqlalchemy import text

from forms_app.core.extensions import db
from forms_app.files import backups
from forms_app.files.backups import create_backup, restore_backup


def _rows(app):
    with app.app_context():
        return db.session.execute(text("SELECT note FROM backup_probe ORDER BY id")).scalars().all()


def test_backup_then_restore_round_trip(app, runner, tmp_path):
    with app.app_context():
        db.session.execute(text("CREATE TABLE backup_probe (id INTEGER PRIMARY KEY, note TEXT)"))
        db.session.execute(text("INSERT INTO backup_probe (note) VALUES ('装修申请一')"))
        db.session.commit()
    upload = Path(app.config["UPLOAD_DIR"]) / "plan.pdf"
    upload.write_bytes(b"%PDF-1.4 original")

    result = runner.invoke(args=["backup", "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    archive = next((tmp_path / "out").glob("backup-*.tar.gz"))

    with app.app_context():
        db.session.execute(text("INSERT INTO backup_probe (note) VALUES ('备份之后')"))
        db.session.commit()
    upload.write_bytes(b"changed")

    refused = runner.invoke(args=["restore", str(archive)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert _rows(app) == ["装修申请一", "备份之后"]

    restored = runner.invoke(args=["restore", str(archive), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _rows(app) == ["装修申请一"]
    assert upload.read_bytes() == b"%PDF-1.4 original"


def test_a_file_deleted_during_the_backup_is_skipped_and_reported(
    app, runner, tmp_path, monkeypatch
):
    """A refused submission deletes the files it wrote, whenever that happens to be."""
    uploads = Path(app.config["UPLOAD_DIR"])
    kept, vanishing = uploads / "a-kept.pdf", uploads / "b-refused.pdf"
    kept.write_bytes(b"%PDF-1.4 kept")
    vanishing.write_bytes(b"%PDF-1.4 refused")
    original = tarfile.TarFile.gettarinfo

    def delete_the_other_file_first(self, name=None, arcname=None, fileobj=None):
        if name is not None and Path(name) == kept:
            vanishing.unlink(missing_ok=True)
        return original(self, name, arcname, fileobj)

    monkeypatch.setattr(tarfile.TarFile, "gettarinfo", delete_the_other_file_first)
    result = runner.invoke(args=["backup", "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "已跳过" in result.output and "uploads/b-refused.pdf" in result.output
    [archive] = (tmp_path / "out").glob("backup-*.tar.gz")
    with tarfile.open(archive) as tar:
        assert "uploads/a-kept.pdf" in tar.getnames()
        assert "uploads/b-refused.pdf" not in tar.getnames()


def test_backups_succeed_while_uploads_come_and_go(app, tmp_path):
    """Files created and deleted all the time, as refused submissions do under load."""
    uploads = Path(app.config["UPLOAD_DIR"])
    stop = threading.Event()

    def churn():
        index = 0
        while not stop.is_set():
            path = uploads / f"churn-{index % 50}.jpg"
            path.write_bytes(b"\xff\xd8\xff" + b"x" * 2000)
            path.unlink()
            index += 1

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        with app.app_context():
            for round_ in range(15):
                create_backup(tmp_path / f"out{round_}")
    finally:
        stop.set()
        worker.join()
    assert len(list(tmp_path.glob("out*/backup-*.tar.gz"))) == 15
    assert not list(tmp_path.glob("out*/*.partial"))


def test_a_failed_backup_leaves_no_partial_archive(app, runner, tmp_path, monkeypatch):
    (Path(app.config["UPLOAD_DIR"]) / "plan.pdf").write_bytes(b"%PDF-1.4")

    def disk_full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tarfile.TarFile, "addfile", disk_full)
    result = runner.invoke(args=["backup", "--output", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert list((tmp_path / "out").iterdir()) == []


def test_backups_and_their_folder_are_private(app, runner, tmp_path):
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    folder = Path(app.instance_path) / "backups"
    [archive] = folder.glob("backup-*.tar.gz")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600


def test_restored_uploads_are_private(app, runner, tmp_path):
    upload = Path(app.config["UPLOAD_DIR"]) / "plan.pdf"
    upload.write_bytes(b"%PDF-1.4")
    upload.chmod(0o644)  # as an older version stored it
    assert runner.invoke(args=["backup", "--output", str(tmp_path)]).exit_code == 0
    [archive] = tmp_path.glob("backup-*.tar.gz")
    assert runner.invoke(args=["restore", str(archive), "--yes"]).exit_code == 0
    assert stat.S_IMODE(upload.stat().st_mode) == 0o600
    assert stat.S_IMODE(upload.parent.stat().st_mode) == 0o700


PG_URL = "postgresql+psycopg://forms:pa:ss\\w0rd@db.internal:5432/forms?sslmode=require"


def test_pg_dump_and_pg_restore_never_get_the_password_on_their_command_line(
    app, tmp_path, monkeypatch
):
    calls = []

    def fake_run(argv, check, env):
        passfile = Path(env["PGPASSFILE"])
        calls.append((argv, passfile.read_text(), stat.S_IMODE(passfile.stat().st_mode), env))
        if argv[0] == "pg_dump":
            Path(argv[argv.index("--file") + 1]).write_bytes(b"PGDMP fake dump")

    monkeypatch.setattr(backups.subprocess, "run", fake_run)
    app.config["SQLALCHEMY_DATABASE_URI"] = PG_URL
    with app.app_context():
        archive = create_backup(tmp_path).archive
        with tarfile.open(archive) as tar:
            assert "database.pgdump" in tar.getnames()
        restore_backup(archive)
    assert [argv[0] for argv, *_ in calls] == ["pg_dump", "pg_restore"]
    for argv, passfile, mode, env in calls:
        assert not any("pa:ss" in part or "w0rd" in part for part in argv), argv
        assert "postgresql://forms@db.internal:5432/forms?sslmode=require" in argv
        assert passfile == "*:*:*:*:pa\\:ss\\\\w0rd\n"
        assert mode == 0o600
        assert "w0rd" not in env.get("PGPASSWORD", "")
    assert not Path(calls[0][3]["PGPASSFILE"]).exists()  # removed after the run
