"""The CLI talks to the services over HTTP only: it imports none of their code (nor shared/)."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "xbm" / "cli"


def test_the_cli_imports_no_service_and_nothing_from_shared() -> None:
    imported = set()
    for path in CLI.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name.split(".")[0] in ("services", "shared", "xbm")}
    assert ours and all(name.startswith("xbm.cli") for name in ours), ours
