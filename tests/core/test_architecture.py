"""Dependencies run one way, layer by layer (README, Architecture), and no module of
``forms_app`` reaches itself again through its imports, however long the way round.

Every import counts: at module level or inside a function, absolute or relative, ``import``
or ``from … import``. ``from . import x`` is an import of the module ``x`` when there is one,
else of the package's ``__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from forms_app import DOMAINS, SERVICES
from tests.support.server import PROJECT_ROOT

APP = PROJECT_ROOT / "forms_app"
FACTORY = "factory"  # forms_app/__init__.py, wsgi.py and the migrations' env.py

# From the bottom up. A part may import its own modules and any part of a lower layer, never a
# part of its own layer or of a higher one: so the domains never import one another.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),  # settings, database, extensions, community, clock, tokens, ids, headers
    ("files",),  # uploads, kept attachments, backups
    ("web",),  # paging, filters, typed input, drafts, exports, error pages
    ("events",),  # the domain-event hook: a domain announces, others react
    ("accounts",),  # login, sessions, roles, the permissions table, audit, the staff home
    ("notifications",),  # the outbox, messages, channels, the worker, periodic scans
    ("households",),  # the household layer (一户一档): rooms, owners, the registry
    ("my_records",),  # 我的办理: a household's records, which the domains register
    (
        "renovation",
        "move_in",
        "surveys",
        "cleaning",
        "service_requests",
        "training",
        "fees",
        "notices",
        "handbook",
    ),
    (FACTORY,),
)
LAYER_OF = {part: index for index, parts in enumerate(LAYERS) for part in parts}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def app_modules() -> dict[str, Path]:
    """Every module of forms_app but the migration scripts (they import only alembic)."""
    return {
        module_name(path): path
        for path in APP.rglob("*.py")
        if "versions" not in path.relative_to(APP).parts
    }


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of forms_app that one file imports, wherever the import statement is."""
    package = name if is_package(path) else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        # "from .x.y import z" names a module x.y; a name that is no module is found in the
        # nearest enclosing module that exists.
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "forms_app":
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            if base_name.split(".")[0] != "forms_app":
                continue
            for alias in node.names:
                submodule = f"{base_name}.{alias.name}"
                add(submodule if submodule in modules else base_name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = app_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def part_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("wsgi", "migrations"):
        return FACTORY
    return parts[1]


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import one another."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def a_cycle(group: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One way round a strongly connected group, for the failure message."""
    members = set(group)
    path = [group[0]]
    seen = {group[0]}
    while True:
        following = sorted(graph[path[-1]] & members)
        back = [m for m in following if m in seen]
        if back:
            start = path.index(back[0])
            return [*path[start:], back[0]]
        path.append(following[0])
        seen.add(following[0])


def test_every_part_of_the_app_has_a_layer():
    """A new package (or a module at the root) must be given its place before it can land."""
    parts = {part_of(module) for module in app_modules()}
    assert parts - LAYER_OF.keys() == set(), "give these a layer in LAYERS (and the README)"
    assert LAYER_OF.keys() - parts == set(), "these layers name parts that do not exist"


def test_the_factory_registers_every_domain_and_service_of_the_layers():
    domains = {module.__name__.rpartition(".")[2] for module in DOMAINS}
    services = {module.__name__.rpartition(".")[2] for module in SERVICES}
    domain_layer = LAYER_OF["renovation"]
    assert {LAYER_OF[name] for name in domains} == {domain_layer}
    assert set(LAYERS[domain_layer]) - domains == {"handbook"}
    assert services == {"notifications", "my_records"}


def test_every_import_goes_down_the_layers():
    wrong = []
    for module, imported in sorted(import_graph().items()):
        source = part_of(module)
        for target in sorted(imported):
            goal = part_of(target)
            if goal != source and LAYER_OF[goal] >= LAYER_OF[source]:
                wrong.append(f"{module} → {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_module_imports_itself_round_a_cycle():
    graph = import_graph()
    cycles = [" → ".join(a_cycle(group, graph)) for group in strongly_connected(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set(), "c": {"d"}, "d": {"c"}}, [["c", "d"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ],
)
def test_the_cycle_finder_finds_cycles_of_any_length(graph, expected):
    assert sorted(strongly_connected(graph)) == expected


def test_imports_inside_functions_and_of_package_inits_are_seen(tmp_path):
    """The walk sees a function's import and ``from . import name`` of a package's own name."""
    graph = import_graph()
    # surveys/__init__ imports its views; a view importing a name from the package is a cycle.
    assert "forms_app.surveys.views" in graph["forms_app.surveys"]
    # forms_app/__init__.py imports the domains inside create_app's module, at top level.
    assert "forms_app.renovation" in graph["forms_app"]
    modules = {"forms_app.x": tmp_path / "x.py", "forms_app.x.y": tmp_path / "y.py"}
    source = tmp_path / "f.py"
    source.write_text("def f():\n    from .x import y\n    from forms_app.x import z\n")
    assert imports_of("forms_app.f", source, modules) == {"forms_app.x.y", "forms_app.x"}
