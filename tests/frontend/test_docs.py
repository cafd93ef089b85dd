"""The project's own documentation is all a user needs: it points only inside the repository, and every
relative link in the README and docs/ leads to a file that exists."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from defusedxml import ElementTree

ROOT = Path(__file__).resolve().parents[2]
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
#: what a user of the project does not have: the handbook beside the repository, and its numbered seeds
OUTSIDE = re.compile(r"\.\./shared|\bseeds? \d{3}\b")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_nothing_points_outside_the_repository() -> None:
    offending = []
    for top in ("README.md", "docs", "services", "examples"):
        base = ROOT / top
        files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        for path in files:
            if path.suffix in (".pyc", ".png", ".db") or "__pycache__" in path.parts:
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if OUTSIDE.search(line):
                    offending.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offending == []


def test_every_relative_link_resolves_inside_the_repository() -> None:
    checked, broken = 0, []
    for doc in documents():
        text = doc.read_text()
        for target in MARKDOWN_LINK.findall(text) + HTML_LINK.findall(text):
            parsed = urlparse(target)
            if parsed.scheme or target.startswith(("#", "//", "mailto:")):
                continue
            resolved = (doc.parent / unquote(parsed.path)).resolve()
            checked += 1
            if not resolved.exists() or ROOT not in resolved.parents:
                broken.append(f"{doc.relative_to(ROOT)} → {target}")
            elif parsed.fragment and resolved.suffix == ".md":
                anchors = {_anchor(h) for h in re.findall(r"^#+\s+(.+)$", resolved.read_text(), re.M)}
                if parsed.fragment not in anchors:
                    broken.append(f"{doc.relative_to(ROOT)} → {target} (no such heading)")
    assert broken == []
    assert checked >= 10  # the guide does link its pages together


def _anchor(heading: str) -> str:
    """The fragment a Markdown renderer gives a heading (lower case, punctuation dropped, spaces → -)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_guide_covers_the_flows_and_has_a_diagram_a_person_can_open() -> None:
    flows = (ROOT / "docs" / "flows.md").read_text()
    for step in ("SBU", "campaigns", "experiments", "matching", "declaration", "receipts", "Import and export"):
        assert step in flows, step
    svg = ElementTree.parse(ROOT / "docs" / "architecture.svg").getroot()
    labels = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    for name in ("plans", "campaigns", "compliance", "sbu.retired", "sbu.performance_changed", "order.released"):
        assert name in labels, name
