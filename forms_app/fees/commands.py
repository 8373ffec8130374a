"""``flask --app forms_app bills issue --month 2026-12``: a period's bills from the command line
(the same as the staff page 开具账单)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..core.refusals import Refused
from .billing import issue_bills

COMMAND_LINE = "命令行"
# The rooms not billable listed by name; the rest are counted.
LISTED = 20


@click.command("issue")
@with_appcontext
@click.option("--month", "month", required=True, help="账期，年-月，例如 2026-12。")
def issue_command(month: str) -> None:
    """Issue a period's bills for every billable room (the same period twice issues nothing)."""
    try:
        result = issue_bills(month, COMMAND_LINE)
    except Refused as refused:
        click.echo(refused.message, err=True)
        raise SystemExit(1) from None
    click.echo(result.summary)
    for warning in result.warnings:
        click.echo(f"注意：{warning}")
    for item in result.not_billable[:LISTED]:
        click.echo(f"不计费：{item.room.label}（{item.room.code}）：{item.reason}")
    if len(result.not_billable) > LISTED:
        click.echo(f"……另有 {len(result.not_billable) - LISTED} 间不计费房屋，见账单页。")
