"""Command-line commands, one click group per part of the app, registered from its ``init_app``:
``flask --app forms_app accounts create NAME --role 经理``, ``files backup``,
``notifications worker``. The next parts follow the same way (``households import``,
``bills issue``).

The flat names the README and deployments used before the groups (``create-user``,
``backup``, ``notifications-worker``, …) stay as hidden aliases of the same commands.
``command_table(app)`` lists every command with its alias: the one list of them, which the
README's table is checked against.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import click
from flask import Flask
from flask.cli import AppGroup

EXTENSION_KEY = "commands"


@dataclass(frozen=True)
class CommandEntry:
    group: str
    name: str
    alias: str | None
    help: str

    @property
    def full_name(self) -> str:
        return f"{self.group} {self.name}"


def register_group(
    app: Flask,
    group: str,
    help_text: str,
    commands: dict[str, click.Command],
    aliases: dict[str, str] | None = None,
) -> None:
    """Add ``flask <group> <name>`` for each of ``commands`` ({name: command}); ``aliases``
    maps an old flat name to the name in the group."""
    aliases = aliases or {}
    cli_group = AppGroup(group, help=help_text)
    for name, command in commands.items():
        cli_group.add_command(command, name=name)
    app.cli.add_command(cli_group)
    alias_of = {name: alias for alias, name in aliases.items()}
    unknown = set(alias_of) - set(commands)
    if unknown:
        raise ValueError(f"aliases for commands the group {group!r} lacks: {sorted(unknown)}")
    for alias, name in aliases.items():
        hidden = copy.copy(commands[name])
        hidden.hidden = True  # works as before, not listed twice in --help
        app.cli.add_command(hidden, name=alias)
    table = app.extensions.setdefault(EXTENSION_KEY, [])
    for name, command in commands.items():
        summary = (command.help or "").strip().split("\n")[0]
        table.append(CommandEntry(group, name, alias_of.get(name), summary))


def command_table(app: Flask) -> list[CommandEntry]:
    return list(app.extensions.get(EXTENSION_KEY, []))


def served_community(community_id: str):
    """The served community of id ``community_id``; an unknown id is refused, the served ids
    named (inside an app context)."""
    from flask import current_app

    from .community import served_communities

    served = {c.key: c for c in served_communities(current_app)}
    if community_id not in served:
        raise click.UsageError(
            f"没有 id 为 {community_id} 的小区；本系统的小区：{'、'.join(served)}。"
        )
    return served[community_id]


def community_option(command):
    """``--community ID``: the command runs as that community's (its records and settings);
    without it, as the deployment's first community's. An unknown id is refused, the served
    ids named. Put it below ``with_appcontext``."""
    import functools

    from .community import acting_in

    @click.option("--community", "community_id", default=None, help="小区 id（默认：第一个小区）。")
    @functools.wraps(command)
    def wrapper(*args, community_id=None, **kwargs):
        if community_id is None:
            return command(*args, **kwargs)
        with acting_in(served_community(community_id)):
            return command(*args, **kwargs)

    return wrapper
