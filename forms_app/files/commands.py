"""The ``files`` commands: ``flask --app forms_app files backup|restore|sweep-uploads|import-disk`` (the
flat ``backup``, ``restore`` and ``sweep-uploads`` stay as aliases)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..core.commands import register_group
from .backups import backup_command, restore_command
from .pending_uploads import sweep_command
from .store import DATABASE, import_disk, store_kind


@click.command("import-disk")
@with_appcontext
def import_disk_command():
    """Copy the upload folder's files into the database (before a second app host starts)."""
    if store_kind(current_app.config) != DATABASE:
        raise click.ClickException(
            "上传文件目前保存在上传目录（SQLite 默认如此）；使用 PostgreSQL 或设置 "
            "FILE_STORE=database 后才能导入数据库。"
        )
    copied, present = import_disk(Path(current_app.config["UPLOAD_DIR"]))
    click.echo(f"已将 {copied} 个上传文件存入数据库（{present} 个原已存在）。")


def init_app(app: Flask) -> None:
    register_group(
        app,
        "files",
        "数据库与上传文件：备份、恢复、清除未提交表单的暂存附件。",
        {
            "backup": backup_command,
            "restore": restore_command,
            "sweep-uploads": sweep_command,
            "import-disk": import_disk_command,
        },
        aliases={"backup": "backup", "restore": "restore", "sweep-uploads": "sweep-uploads"},
    )
