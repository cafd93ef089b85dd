"""No import hides inside a function in ``services/`` or ``shared/`` (migrations aside): an import placed there
to dodge a cycle hides a dependency the layers (README "Architecture", the import-linter contracts in
pyproject.toml) should show. One that must stay says why on its line or the line above, in a comment starting
``# import here:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REASON = "# import here:"


def function_imports(source: str) -> list[int]:
    """Line numbers of the imports inside a function body (nested functions and methods included) that give
    no reason."""
    lines = source.splitlines()
    found: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, (ast.Import, ast.ImportFrom)) and not _reasoned(lines, inner.lineno):
                found.add(inner.lineno)
    return sorted(found)


def _reasoned(lines: list[str], lineno: int) -> bool:
    here = lines[lineno - 1]
    above = lines[lineno - 2].strip() if lineno >= 2 else ""
    return REASON in here or above.startswith(REASON)


def _modules() -> list[Path]:
    return sorted(
        path
        for top in ("services", "shared")
        for path in (ROOT / top).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def test_the_modules_are_found() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in _modules()}
    assert "services/compliance/app.py" in names and "shared/db.py" in names
    assert not any("/migrations/" in name for name in names)


def test_no_import_inside_a_function() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}" for path in _modules() for line in function_imports(path.read_text())
    ]
    assert offenders == [], f"imports inside functions (move them up, or say why with {REASON!r}): {offenders}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os\n\ndef f():\n    return os\n", []),
        ("def f():\n    import os\n    return os\n", [2]),
        ("async def f():\n    from os import path\n    return path\n", [2]),
        ("class C:\n    def m(self):\n        def g():\n            import os\n", [4]),
        ("def f():\n    # import here: the optional extra is loaded only when asked for\n    import os\n", []),
        ("def f():\n    import os  # import here: the optional extra is loaded only when asked for\n", []),
        ("def f():\n    # the register imports the orders\n    import os\n", [3]),
        ("import typing\nif typing.TYPE_CHECKING:\n    import os\n", []),
    ],
)
def test_what_counts_as_a_function_import(source: str, expected: list[int]) -> None:
    assert function_imports(source) == expected
