"""Commands: one click group per part of the app, the old flat names as hidden aliases, and
the README's table listing every one of them."""

from __future__ import annotations

from forms_app.core.commands import command_table
from tests.support.server import PROJECT_ROOT


def test_every_command_is_in_a_group_and_in_the_readme(app):
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = command_table(app)
    assert {entry.group for entry in table} >= {"accounts", "files", "notifications"}
    for entry in table:
        assert f"`{entry.full_name}`" in readme, entry.full_name
        if entry.alias:
            assert f"`{entry.alias}`" in readme, entry.alias


def test_the_group_and_the_alias_run_the_same_command(app, runner):
    made = runner.invoke(
        args=["accounts", "create", "zhang", "--role", "客服"], input="pw-Long-123\n"
    )
    assert made.exit_code == 0, made.output
    listed = runner.invoke(args=["list-users"])
    assert listed.exit_code == 0 and "zhang" in listed.output
    assert runner.invoke(args=["accounts", "list"]).output == listed.output


def test_aliases_are_hidden_from_the_help(app, runner):
    shown = runner.invoke(args=["--help"]).output
    assert "accounts" in shown and "files" in shown and "notifications" in shown
    for entry in command_table(app):
        if entry.alias and entry.alias != entry.group:
            assert f"  {entry.alias} " not in shown, entry.alias
