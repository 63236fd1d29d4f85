"""The core (``ccdg``) depends on no app: apps register what the core runs for them (outbox
message kinds, housekeeping), and only the composition root names them, by string (settings,
``include("...")`` in urls, ``"sessions_app.Program"`` foreign keys)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def project_apps(root: Path) -> set[str]:
    """The installed apps that are packages of this project, except the core."""
    return {
        app
        for app in settings.INSTALLED_APPS
        if "." not in app and app != "ccdg" and (root / app / "__init__.py").exists()
    }


def app_imports(core: Path, apps: set[str]) -> list[str]:
    """Every import of an app in the core's modules, at module level or inside a function (or
    an ``if TYPE_CHECKING:`` block), as "path:line module"; migrations are left out."""
    found = []
    for path in sorted(core.rglob("*.py")):
        relative = path.relative_to(core.parent)
        if "migrations" in relative.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            found += [f"{relative}:{node.lineno} {m}" for m in modules if m.split(".")[0] in apps]
    return found


def test_the_core_imports_no_app_anywhere():
    apps = project_apps(ROOT)
    assert {"sessions_app", "surveys", "analysis"} <= apps

    assert app_imports(ROOT / "ccdg", apps) == []


def test_an_import_inside_a_function_counts(tmp_path):
    core = tmp_path / "ccdg"
    (core / "migrations").mkdir(parents=True)
    (core / "jobs.py").write_text("def run():\n    from surveys.models import Wave\n")
    (core / "migrations" / "0001_initial.py").write_text("import sessions_app\n")

    assert app_imports(core, {"sessions_app", "surveys"}) == ["ccdg/jobs.py:2 surveys.models"]
