"""URL rules whose build functions are compiled when first used, not when registered.

Werkzeug compiles two Python functions (through ``ast`` and ``compile``) for every rule as it is
added to the map, so that ``url_for`` is fast. With about a thousand rules that is nine tenths
of ``create_app`` (about 0.15 s), paid by every process that makes the app — each gunicorn
start, each ``flask`` command, the notification worker — while a process builds URLs for only
a few of the rules. This rule compiles a builder on its first call instead; what it builds is
the same, compiled by Werkzeug's own code (``Rule._compile_builder``). Two threads asking at
once each compile it once; both results are the same function.
"""

from __future__ import annotations

from werkzeug.routing import Rule


class LazyBuildRule(Rule):
    def _compile_builder(self, append_unknown: bool = True):
        compiled = None

        def build(rule, *args, **kwargs):
            nonlocal compiled
            if compiled is None:
                compiled = Rule._compile_builder(rule, append_unknown)
            return compiled(rule, *args, **kwargs)

        return build
