"""``flask --app forms_app households seed|import|export``: the registry from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..accounts.audit import record_audit
from ..core.commands import community_option, register_group, served_community
from ..core.community import acting_in, served_communities
from ..core.database import write_connection
from .registry import COMMAND_LINE, seed_rooms


@click.command("seed")
@with_appcontext
@click.option(
    "--community", "community_id", default=None, help="只补充这个小区（默认：每个小区）。"
)
def seed_command(community_id: str | None) -> None:
    """Add the rooms of each community file the registry does not have yet (a new community,
    a new building); ``make db`` runs it after the migrations."""
    if community_id is None:
        chosen = served_communities(current_app)
    else:
        chosen = [served_community(community_id)]
    for community in chosen:
        with acting_in(community), write_connection() as connection:
            added = seed_rooms(connection, community)
        click.echo(f"已从小区数据文件补充 {added} 间房屋（{community.name}）。")


@click.command("import")
@with_appcontext
@community_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply", "apply_", is_flag=True, help="导入（不加此项只检查，不保存任何内容）。")
def import_command(file: Path, apply_: bool) -> None:
    """Import the company's 房屋台账 (xlsx): a dry run listing every problem; --apply imports.

    Optional columns 交房状态 (未交房/空置/已入住) and 交房日期 set a room's 交房 state; a room
    no row gives them for keeps its state, so an import without them leaves rooms 未交房 (fees
    bill those to the developer, and no owner gets a bill).
    """
    from .importing import HANDOVER_NOTE, dry_run, import_file

    report = import_file(file, file.name) if apply_ else dry_run(file, file.name)
    for problem in report.problems:
        click.echo(str(problem))
    if not report.clean:
        click.echo(
            f"共发现 {report.problem_count} 处问题，未导入任何内容：请修改文件后重新检查。",
            err=True,
        )
        raise SystemExit(1)
    if report.applied:
        click.echo(f"已导入“{file.name}”：{report.counts_text()}。")
    else:
        click.echo(f"检查通过（未保存）：{report.counts_text()}。加 --apply 导入。")
    click.echo(
        "导入只新增人员和更新收费面积、交房状态，不会结束文件中没有的已登记人员（过户、迁出请单独办理）。"
    )
    click.echo(HANDOVER_NOTE)


@click.command("export")
@with_appcontext
@community_option
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_command(out: Path) -> None:
    """The registry as xlsx in the import's columns (one row per current person)."""
    from .importing import write_export

    count = write_export(out)
    record_audit(
        "households.export", target=out.name, detail=f"{count} 行", actor_name=COMMAND_LINE
    )
    click.echo(f"已导出 {count} 行到 {out}。")


def init_app(app: Flask) -> None:
    register_group(
        app,
        "households",
        "一户一档：房屋台账的补充、导入与导出。",
        {"seed": seed_command, "import": import_command, "export": export_command},
    )
