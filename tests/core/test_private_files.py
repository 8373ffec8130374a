"""The database, the secret key, uploads and backups are readable by the service's account only,
whatever the umask; and two workers starting at once agree on one secret key."""

from __future__ import annotations

import io
import multiprocessing
import stat
from pathlib import Path

from forms_app import create_app
from forms_app.core.config import _secret_key
from forms_app.core.extensions import db
from tests.support.renovation import Owner, application_fields

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_instance_database_secret_key_and_uploads_are_private(app, client):
    instance = Path(app.instance_path)
    Owner(client).submit_ok(application_fields(attachments=[(io.BytesIO(JPEG), "照片.jpg")]))
    uploads = Path(app.config["UPLOAD_DIR"])
    [stored] = list(uploads.iterdir())
    database = instance / "forms.sqlite3"
    assert mode(instance) == 0o700
    assert mode(uploads) == 0o700
    assert mode(stored) == 0o600
    assert mode(instance / "secret_key") == 0o600
    for path in [database, *instance.glob("forms.sqlite3-*")]:
        assert mode(path) == 0o600, path.name
    assert (instance / "forms.sqlite3-wal").exists()


def test_files_an_older_version_left_readable_are_made_private(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    (instance / "uploads").mkdir(parents=True, mode=0o755)
    instance.chmod(0o755)
    for name in ("forms.sqlite3", "secret_key"):
        (instance / name).write_bytes(b"" if name != "secret_key" else b"k" * 64)
        (instance / name).chmod(0o644)
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"TESTING": True, "SITE_DIR": None})
    with app.app_context():
        db.engine.dispose()
    assert app.config["SECRET_KEY"] == "k" * 64
    assert [
        mode(p)
        for p in (
            instance,
            instance / "uploads",
            instance / "forms.sqlite3",
            instance / "secret_key",
        )
    ] == [0o700, 0o700, 0o600, 0o600]


def _read_key(instance: str, barrier, results) -> None:
    barrier.wait()
    results.put(_secret_key(instance, f"sqlite:///{instance}/forms.sqlite3"))


def test_workers_starting_at_once_create_one_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    context = multiprocessing.get_context("fork")
    for round_ in range(5):
        instance = tmp_path / f"instance{round_}"
        instance.mkdir()
        barrier, results = context.Barrier(8), context.Queue()
        workers = [
            context.Process(target=_read_key, args=(str(instance), barrier, results))
            for _ in range(8)
        ]
        for worker in workers:
            worker.start()
        keys = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join()
        assert len(set(keys)) == 1 and len(keys[0]) == 64, keys
        assert (instance / "secret_key").read_text() == keys[0]
        assert mode(instance / "secret_key") == 0o600
        assert [p.name for p in instance.iterdir()] == ["secret_key"]  # no temporary left
