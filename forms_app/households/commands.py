"""``flask --app forms_app households seed|import|export``: the registry from the command line."""

from __future__ import annotations

import click
from flask import Flask

from ..core.commands import register_group
from ..core.community import current_community
from ..core.database import write_connection
from .registry import seed_rooms


@click.command("seed")
def seed_command() -> None:
    """Add the rooms of the community file the registry does not have yet (a new building)."""
    community = current_community()
    with write_connection() as connection:
        added = seed_rooms(connection, community)
    click.echo(f"已从小区数据文件补充 {added} 间房屋（{community.name}）。")


def init_app(app: Flask) -> None:
    register_group(
        app,
        "households",
        "一户一档：房屋台账的补充、导入与导出。",
        {"seed": seed_command},
    )
