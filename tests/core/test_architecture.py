"""Dependencies run one way: shared modules ← accounts ← domains ← the factory (README)."""
import ast
from collections import defaultdict

from forms_app import DOMAINS, SERVICES
from tests.support.server import PROJECT_ROOT

APP = PROJECT_ROOT / "forms_app"
PACKAGES = {p.name for p in APP.iterdir()
            if (p / "__init__.py").exists() and p.name != "migrations"}
DOMAIN_NAMES = {module.__name__.rsplit(".", 1)[1] for module in DOMAINS}
SERVICE_NAMES = {module.__name__.rsplit(".", 1)[1] for module in SERVICES}


def imported_packages(path) -> set[str]:
    """The sub-packages (or top-level modules) of forms_app that one file imports, at module
    level or inside functions, absolutely or relatively."""
    parts = path.relative_to(APP).parts
    depth = len(parts)  # a relative import with this many dots reaches forms_app itself
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.startswith("forms_app."):
                found.add(module.split(".")[1])
            elif node.level == depth:
                found.update([module.split(".")[0]] if module else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("forms_app."))
    return found


def import_graph() -> dict[str, set[str]]:
    graph = defaultdict(set)
    for path in APP.rglob("*.py"):
        source = path.relative_to(APP).parts[0].removesuffix(".py")
        if source in ("__init__", "migrations"):
            continue  # the factory may import everything
        graph[source] |= imported_packages(path) - {source}
    return graph


def test_no_two_packages_import_each_other():
    graph = import_graph()
    pairs = {tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph.get(b, ())}
    assert not pairs


def test_accounts_imports_no_domain_and_domains_import_no_domain():
    graph = import_graph()
    assert DOMAIN_NAMES and DOMAIN_NAMES <= PACKAGES
    assert not graph["accounts"] & DOMAIN_NAMES
    for domain in DOMAIN_NAMES:
        assert not graph[domain] & (DOMAIN_NAMES - {domain}), domain


def test_shared_modules_import_neither_accounts_nor_domains():
    graph = import_graph()
    shared = [name for name in graph if name not in PACKAGES]
    assert "households" in shared and "tokens" in shared
    for name in shared:
        assert not graph[name] & PACKAGES, (name, graph[name] & PACKAGES)


def test_services_import_no_domain():
    """notifications and my_records sit between accounts and the domains: domains call them."""
    graph = import_graph()
    assert SERVICE_NAMES == {"notifications", "my_records"}
    for name in SERVICE_NAMES:
        assert not graph[name] & DOMAIN_NAMES, name
    assert "my_records" not in graph["notifications"]
