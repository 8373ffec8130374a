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
