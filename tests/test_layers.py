"""Dependencies point one way: network ← residents ← outreach, services ← reports. An app
may import only the apps below it; outreach and services do not import each other."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
ALLOWED = {
    "network": set(),
    "residents": {"network"},
    "outreach": {"network", "residents"},
    "services": {"network", "residents"},
    "reports": {"network", "residents", "outreach", "services"},
}


def imported_apps(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & set(ALLOWED)


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_app_imports_only_the_apps_below_it(app):
    wrong = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        upward = imported_apps(path) - ALLOWED[app] - {app}
        if upward:
            wrong[str(path.relative_to(ROOT))] = sorted(upward)
    assert wrong == {}


def test_the_rule_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from outreach.models import Visit\nimport services.cards\n")
    assert imported_apps(module) == {"outreach", "services"}
