"""XBM stands on its own: a clone with nothing beside it has every file its code, tests and docs need.

Two checks over every file git tracks (or would track): no Python file computes a path above the repository from
its own location (``Path(__file__).parents[N]``, ``.parent`` chains, names bound to them, ``/ ".."``), and no file
names the folder beside the repository or an absolute path on a developer's machine.
"""

from __future__ import annotations

import ast
import os.path
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: written in two pieces so this file does not match itself
BESIDE = re.compile(r"\.\.[/\\]" + r"shared\b")
ABSOLUTE = re.compile(r"(?<![\w.:/])/(?:work|home|root|Users)/[\w.-]+")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".json", ".sh", ".js", ".ts", ".html", ".txt"}


def _files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def _text_files() -> list[Path]:
    return [
        path
        for path in _files()
        if (path.suffix in TEXT_SUFFIXES or path.name in {"Makefile", "run", "Dockerfile"})
        and "node_modules" not in path.parts
    ]


class _Paths(ast.NodeVisitor):
    """Evaluates the path expressions a module builds from ``__file__`` (and the names it binds to them)."""

    def __init__(self, path: Path):
        self.file = path
        self.names: dict[str, Path] = {}
        self.found: list[tuple[int, Path]] = []

    def value(self, node: ast.AST) -> Path | None:
        match node:
            case ast.Name(id="__file__"):
                return self.file
            case ast.Name(id=name):
                return self.names.get(name)
            case ast.Call(func=ast.Name(id="Path"), args=[argument]):
                return self.value(argument)
            case ast.Call(func=ast.Attribute(value=inner, attr="resolve" | "absolute")):
                return self.value(inner)
            case ast.Attribute(value=inner, attr="parent"):
                base = self.value(inner)
                return base.parent if base is not None else None
            case ast.Subscript(value=ast.Attribute(value=inner, attr="parents"), slice=ast.Constant(value=int(n))):
                base = self.value(inner)
                if base is None:
                    return None
                return base.parents[n] if n < len(base.parents) else Path("/")
            case ast.BinOp(left=left, op=ast.Div(), right=ast.Constant(value=str(part))):
                base = self.value(left)
                return Path(_normal(str(base / part))) if base is not None else None
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        result = self.value(node.value)
        if result is not None:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.names[target.id] = result
        self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.expr):
            result = self.value(node)
            if result is not None:
                self.found.append((getattr(node, "lineno", 0), result))
        super().generic_visit(node)


def _normal(path: str) -> str:
    return os.path.normpath(path)


def _outside(path: Path) -> bool:
    return not Path(_normal(str(path))).is_relative_to(ROOT)


def paths_outside(source: str, path: Path) -> list[tuple[int, Path]]:
    finder = _Paths(path)
    finder.visit(ast.parse(source))
    return [(line, found) for line, found in finder.found if _outside(found)]


def test_no_python_file_computes_a_path_outside_the_repository() -> None:
    offenders = []
    for path in _files():
        if path.suffix != ".py":
            continue
        for line, found in paths_outside(path.read_text(encoding="utf-8"), path):
            offenders.append(f"{path.relative_to(ROOT)}:{line} → {found}")
    assert offenders == []


def test_no_file_names_the_folder_beside_the_repository_or_a_machine_path() -> None:
    offenders = []
    for path in _text_files():
        if path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if BESIDE.search(line) or ABSOLUTE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert offenders == []


@pytest.mark.parametrize(
    ("source", "outside"),
    [
        ('X = Path(__file__).resolve().parents[2] / "examples"', False),
        ('X = Path(__file__).resolve().parents[3] / "handbook"', True),
        ('ROOT = Path(__file__).resolve().parents[2]\nY = ROOT.parent / "handbook"', True),
        ('ROOT = Path(__file__).resolve().parents[2]\nY = ROOT / ".." / "handbook"', True),
        ('Y = Path(__file__).parent.parent.parent.parent / "handbook"', True),
        ('Y = Path(__file__).parent / "samples"', False),
    ],
)
def test_the_check_sees_paths_that_climb_out(source: str, outside: bool) -> None:
    here = ROOT / "tests" / "pkg" / "module.py"
    assert bool(paths_outside(source, here)) is outside
