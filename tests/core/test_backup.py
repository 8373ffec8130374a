"""A backup taken while the app runs restores the database and the uploads exactly."""
from pathlib import Path

from sqlalchemy import text

from forms_app.extensions import db


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
