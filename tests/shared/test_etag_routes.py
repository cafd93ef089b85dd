"""One If-Match style on every route (shared/etag.py): a versioned resource's GET answers its ETag through the
``Version`` dependency, and every PATCH, PUT and DELETE of that resource declares the same dependency and its 412,
handing ``version.check`` to the service function that holds the current representation. Nothing else writes an
ETag or checks If-Match, so a new route cannot slip back to a hand-written style."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from fastapi.dependencies.models import Dependant

from shared.etag import Version
from shared.openapi import dependants, operations

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("plans", "campaigns", "compliance")
WRITES = ("patch", "put", "delete")
#: what a route may take from shared/etag.py: the dependency, its type, and the Precondition a service is handed
ALLOWED_FROM_ETAG = {"Version", "Versioned", "Precondition", "MAX_IF_MATCH"}
VERSIONED = get_args(Version)[1].dependency


def _declares_version(dependant: Dependant) -> bool:
    return any(d.call is VERSIONED for d in dependants(dependant))


def test_every_write_of_a_versioned_resource_declares_version_and_its_412(apps: dict[str, Any]) -> None:
    checked = 0
    for name in SERVICES:
        app = apps[name]
        document = app.openapi()
        routes = {(method, path): dependant for method, path, dependant in operations(app)}
        versioned = {path for (method, path), d in routes.items() if method == "get" and _declares_version(d)}
        assert versioned, f"{name}: no GET answers an ETag through Version"
        for (method, path), dependant in routes.items():
            if method not in WRITES or path not in versioned:
                continue
            checked += 1
            assert _declares_version(dependant), f"{name}: {method.upper()} {path} does not take version: Version"
            responses = document["paths"][path][method]["responses"]
            assert "412" in responses, f"{name}: {method.upper()} {path} does not declare its 412"
            names = [p["name"] for p in document["paths"][path][method].get("parameters", [])]
            assert "If-Match" in names, f"{name}: {method.upper()} {path} does not document If-Match"
        for (method, path), dependant in routes.items():
            # and the other way round: a write that answers 412 checks it through the dependency
            if method in WRITES and "412" in document["paths"][path][method]["responses"]:
                assert _declares_version(dependant), f"{name}: {method.upper()} {path} answers 412 without Version"
    # SBUs, plans and their children, campaigns, customs profiles, institutions, items, rates, orders, subscriptions
    assert checked >= 40, checked


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for folder in ("services", "shared"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts or path == ROOT / "shared" / "etag.py":
                continue
            yield path, ast.parse(path.read_text(), str(path))


def _hand_written(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "shared.etag":
            for alias in node.names:
                if alias.name not in ALLOWED_FROM_ETAG:
                    yield f"imports {alias.name} from shared.etag"
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            if str(node.slice.value).lower() in ("etag", "if-match"):
                yield f"indexes headers by {node.slice.value!r} (line {node.lineno})"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            if any(isinstance(a, ast.Constant) and str(a.value).lower() == "if-match" for a in node.args):
                yield f"reads If-Match itself (line {node.lineno})"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "check":
            # routes hand version.check to the service function; they never call it themselves
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "version":
                yield f"calls version.check itself (line {node.lineno})"


def test_no_route_writes_an_etag_or_checks_if_match_by_hand() -> None:
    found = {str(path.relative_to(ROOT)): list(_hand_written(tree)) for path, tree in _sources()}
    # shared/errors.py names If-Match only to tell 412 from 409 when a compare-and-set loses (shared/db.py)
    found["shared/errors.py"] = [use for use in found["shared/errors.py"] if not use.startswith("reads If-Match")]
    assert {path: uses for path, uses in found.items() if uses} == {}
