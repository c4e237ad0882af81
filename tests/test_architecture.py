"""The layers of docs/architecture.md, enforced: the faces never touch the ORM, and the
import contracts in pyproject.toml (run by ``lint-imports`` in scripts/check) fail when a layer
order is broken, so they guard something."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
# The faces: they call one selector, service or report builder and render what it returns.
FACES = ("npldesk/cli", "npldesk/web", "npldesk/casework/admin.py")
# Ways to reach a model's table without a selector or a service.
MANAGERS = {"objects", "_default_manager", "_base_manager"}


def face_modules() -> list[Path]:
    found: list[Path] = []
    for face in FACES:
        path = REPO / face
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def manager_uses(tree: ast.AST) -> list[ast.Attribute]:
    """Every ``<model>.objects`` (or other manager) in ``tree``, but ``….none()``: an empty
    queryset reads nothing (the admin answers a stranger with one)."""
    empty = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "none"
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS and id(node) not in empty
    ]


def test_faces_never_touch_the_orm():
    touches = [
        f"{path.relative_to(REPO)}:{node.lineno} .{node.attr}"
        for path in face_modules()
        for node in manager_uses(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert touches == [], "faces read and write through selectors and services only"


def test_the_orm_rule_sees_a_manager():
    # The rule above would pass on an empty list of faces; it sees what it is looking for.
    assert any(path.name == "app.py" for path in face_modules())
    assert len(manager_uses(ast.parse("Case.objects.filter(state='opened')"))) == 1
    assert len(manager_uses(ast.parse("self.model._default_manager.get(pk=1)"))) == 1
    assert manager_uses(ast.parse("self.model._default_manager.none()")) == []


def _layers_config(tmp_path: Path, layers: list[str]) -> Path:
    """A configuration holding only the layers contract of pyproject.toml, with ``layers``."""
    settings: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"][
        "importlinter"
    ]
    (contract,) = [c for c in settings["contracts"] if c["id"] == "layers"]
    lines = [
        "[tool.importlinter]",
        f'root_package = "{settings["root_package"]}"',
        f"include_external_packages = {str(settings['include_external_packages']).lower()}",
        "[[tool.importlinter.contracts]]",
        'id = "layers"',
        f'name = "{contract["name"]}"',
        'type = "layers"',
        "layers = [" + ", ".join(f'"{layer}"' for layer in layers) + "]",
    ]
    path = tmp_path / "importlinter.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lint_imports(config: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--config", str(config), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )


@pytest.fixture
def layers() -> list[str]:
    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in settings["contracts"] if c["id"] == "layers"]
    return list(contract["layers"])


def test_the_layers_contract_holds_and_fails_when_two_layers_swap(tmp_path: Path, layers):
    kept = _lint_imports(_layers_config(tmp_path, layers))
    assert kept.returncode == 0, kept.stdout + kept.stderr
    # Casework imports the analytics: with the analytics put above it, the contract breaks.
    casework = layers.index("npldesk.casework")
    swapped = list(layers)
    swapped[casework], swapped[casework + 1] = swapped[casework + 1], swapped[casework]
    assert swapped[casework].startswith("npldesk.analytics")
    broken = _lint_imports(_layers_config(tmp_path, swapped))
    assert broken.returncode == 1
    assert "BROKEN" in broken.stdout and "npldesk.casework" in broken.stdout
