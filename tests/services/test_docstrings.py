"""Every public service function and method says what it does in its docstring (#15):
services/ is the product, and its docstrings are how the shells learn to use it."""

from __future__ import annotations

import ast
from pathlib import Path

import tinycrm.services

SERVICES = Path(tinycrm.services.__file__).parent


def _undocumented(tree: ast.Module, path: Path) -> list[str]:
    missing = []

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not node.name.startswith("_") and not ast.get_docstring(node):
                    missing.append(
                        f"{path.relative_to(SERVICES)}:{node.lineno} {prefix}{node.name}"
                    )
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                walk(node.body, f"{prefix}{node.name}.")

    walk(tree.body, "")
    return missing


def test_every_public_service_function_has_a_docstring() -> None:
    files = sorted(SERVICES.rglob("*.py"))
    assert len(files) > 20 and SERVICES / "imports" / "bulk.py" in files
    missing = [m for f in files for m in _undocumented(ast.parse(f.read_text("utf-8")), f)]
    assert missing == []


def test_the_check_sees_an_undocumented_method() -> None:
    tree = ast.parse("class A:\n    def b(self):\n        pass\n    def _c(self):\n        pass\n")
    assert _undocumented(tree, SERVICES / "x.py") == ["x.py:2 A.b"]
