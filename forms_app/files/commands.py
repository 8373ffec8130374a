"""The ``files`` commands: ``flask --app forms_app files backup|restore|sweep-uploads`` (the
flat ``backup``, ``restore`` and ``sweep-uploads`` stay as aliases)."""

from __future__ import annotations

from flask import Flask

from ..core.commands import register_group
from .backups import backup_command, restore_command
from .pending_uploads import sweep_command


def init_app(app: Flask) -> None:
    register_group(
        app,
        "files",
        "数据库与上传文件：备份、恢复、清除未提交表单的暂存附件。",
        {"backup": backup_command, "restore": restore_command, "sweep-uploads": sweep_command},
        aliases={"backup": "backup", "restore": "restore", "sweep-uploads": "sweep-uploads"},
    )
