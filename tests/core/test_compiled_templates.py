"""Templates are compiled once per process, whichever app object renders them
(forms_app/web/compiled_templates.py), and compiled again when their source changes."""

from __future__ import annotations

import pytest
from jinja2 import DictLoader, Environment

from forms_app import create_app
from forms_app.web.compiled_templates import COMPILED_TEMPLATES, ProcessBytecodeCache
from tests.support.apps import TEST_CONFIG


def test_a_second_app_renders_without_compiling_the_templates_again(app):
    assert app.test_client().get("/forms/staff/login").status_code == 200
    second = create_app(dict(TEST_CONFIG))
    assert second.jinja_env.bytecode_cache is COMPILED_TEMPLATES

    def compile_again(*args, **kwargs):
        raise AssertionError("compiled again")

    second.jinja_env.compile = compile_again
    page = second.test_client().get("/forms/staff/login")
    assert page.status_code == 200 and "登录" in page.get_data(as_text=True)
    with pytest.raises(AssertionError, match="compiled again"):
        second.jinja_env.from_string("{{ 1 }}")  # the patch itself is in the way


def test_a_changed_source_is_compiled_again():
    cache = ProcessBytecodeCache()
    sources = {"page.html": "第一版"}
    first = Environment(loader=DictLoader(sources), bytecode_cache=cache)
    assert first.get_template("page.html").render() == "第一版"
    sources["page.html"] = "第二版"
    second = Environment(loader=DictLoader(sources), bytecode_cache=cache)
    assert second.get_template("page.html").render() == "第二版"
    unchanged = Environment(loader=DictLoader(dict(sources)), bytecode_cache=cache)
    unchanged.compile = None  # would fail if called: the cached code serves
    assert unchanged.get_template("page.html").render() == "第二版"


def test_the_next_process_reads_the_compiled_templates_from_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TEMPLATE_CACHE_DIR", str(tmp_path / "compiled"))
    sources = {"page.html": "第一版"}
    first = Environment(loader=DictLoader(sources), bytecode_cache=ProcessBytecodeCache())
    assert first.get_template("page.html").render() == "第一版"
    (kept,) = (tmp_path / "compiled").iterdir()
    # A process of its own starts with an empty memory: the folder serves it.
    later = Environment(loader=DictLoader(dict(sources)), bytecode_cache=ProcessBytecodeCache())
    later.compile = None  # would fail if called
    assert later.get_template("page.html").render() == "第一版"
    # An entry cut short (a disk full, another Jinja) is compiled again and replaced.
    kept.write_bytes(kept.read_bytes()[:10])
    again = Environment(loader=DictLoader(dict(sources)), bytecode_cache=ProcessBytecodeCache())
    assert again.get_template("page.html").render() == "第一版"
    assert len(kept.read_bytes()) > 10
    # A changed source is compiled again, not served from the folder.
    sources["page.html"] = "第二版"
    changed = Environment(loader=DictLoader(sources), bytecode_cache=ProcessBytecodeCache())
    assert changed.get_template("page.html").render() == "第二版"
    assert [path.name for path in (tmp_path / "compiled").iterdir()] == [kept.name]


def test_without_the_setting_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv("TEMPLATE_CACHE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    environment = Environment(
        loader=DictLoader({"page.html": "页"}), bytecode_cache=ProcessBytecodeCache()
    )
    assert environment.get_template("page.html").render() == "页"
    assert list(tmp_path.iterdir()) == []
