"""Reading a report the way a person does: printed by headless Chromium to PDF, then the PDF's text."""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from pathlib import Path

from tests.frontend.browser import CHROMIUM, HEADLESS

A4_POINTS = (595.0, 842.0)


def print_to_pdf(html: str, tmp_path: Path) -> bytes:
    page, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    page.write_text(html, encoding="utf-8")
    subprocess.run(
        [
            CHROMIUM,
            *HEADLESS,
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return pdf.read_bytes()


def printed(html: str, tmp_path: Path) -> tuple[list[tuple[float, float]], str]:
    """The page sizes (points) and the text a reader sees on the printed pages, whitespace collapsed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(print_to_pdf(html, tmp_path)))
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    text = " ".join(p.extract_text() or "" for p in reader.pages)
    # NFKC: the PDF writes "office" with an "ffi" ligature
    return sizes, re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text))


def assert_a4(sizes: list[tuple[float, float]]) -> None:
    assert sizes, "nothing printed"
    for width, height in sizes:
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2, (width, height)
