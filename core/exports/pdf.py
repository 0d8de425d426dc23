"""The PDF engine every Quarterdeck report is made with: the backtest and optimization
report (``core.exports.report``) and the release report (``checks.release_report``).

One set of choices for all of them: ReportLab's platypus on A4, DejaVu Sans (the
TrueType font matplotlib ships, so charts and text match and any character
prints), one table style (bold header on a tinted band, zebra rows, a rule under
the last row, the header repeated when a table splits across pages), a running
header and a footer with the page number on every page, reproducible bytes
(``invariant``; the date from ``SOURCE_DATE_EPOCH`` when set), and a file written
to a temporary name beside the target and moved into place, so a failed render
never leaves half a PDF.

``build_document`` lays out a ``Document``: plain data (headings, paragraphs,
fact tables, tables), so a caller in ``checks`` needs no ReportLab of its own.
Everything here blocks: call it from a worker thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import __version__

#: ReportLab's font registry and document machinery are process-wide; one build at a time.
LOCK = threading.Lock()
FONT = "QD-Sans"
FONT_BOLD = "QD-Sans-Bold"
INK = "#1b1f24"
MUTED = "#5f6b76"
RULE = "#c9d1d9"
HEAD_FILL = "#e8eef4"
ZEBRA = "#f6f8fa"
GAIN = "#dcefdc"
LOSS = "#f6dcdc"


def generated_default() -> datetime:
    """The date a report prints: ``SOURCE_DATE_EPOCH`` if set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def register_fonts() -> None:
    from matplotlib import get_data_path
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    fonts = Path(get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(fonts / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(fonts / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


def escape(text: str) -> str:
    """Plain text for a ReportLab paragraph, which otherwise reads ``<`` and ``&`` as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Styles:
    """The paragraph styles of every report."""

    body: Any
    small: Any
    cell: Any
    title: Any
    subtitle: Any
    heading: Any
    minor: Any

    @classmethod
    def make(cls) -> Styles:
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle

        body = ParagraphStyle(
            "body", fontName=FONT, fontSize=9, leading=12.5, textColor=colors.HexColor(INK)
        )
        return cls(
            body=body,
            small=ParagraphStyle(
                "small", body, fontSize=7.5, leading=10, textColor=colors.HexColor(MUTED)
            ),
            cell=ParagraphStyle("cell", body, fontSize=8, leading=10),
            title=ParagraphStyle(
                "title", body, fontName=FONT_BOLD, fontSize=22, leading=27, spaceAfter=6
            ),
            subtitle=ParagraphStyle(
                "subtitle", body, fontName=FONT_BOLD, fontSize=14, leading=18, spaceAfter=4
            ),
            heading=ParagraphStyle(
                "heading",
                body,
                fontName=FONT_BOLD,
                fontSize=13,
                leading=17,
                spaceBefore=4,
                spaceAfter=6,
            ),
            minor=ParagraphStyle(
                "minor",
                body,
                fontName=FONT_BOLD,
                fontSize=10.5,
                leading=14,
                spaceBefore=10,
                spaceAfter=4,
            ),
        )


def page_width() -> float:
    """The width between the margins of an A4 page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    return A4[0] - 30 * mm


def table(
    rows: list[list],
    widths: Sequence[float],
    *,
    header: bool = True,
    right_from: int = 1,
    size: float = 8,
    long: bool = False,
    extra: Sequence[tuple] = (),
):
    """The house table: columns from ``right_from`` on right-aligned, zebra rows, a tinted
    bold header repeated on every page the table spans (``long`` splits across pages)."""
    from reportlab.lib import colors
    from reportlab.platypus import LongTable, Table, TableStyle

    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), size + 2),
        ("TEXTCOLOR", (0, 0), (-1, -1), colors.HexColor(INK)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("ALIGN", (right_from, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, colors.HexColor(RULE)),
    ]
    first = 1 if header else 0
    if header:
        style += [
            ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(HEAD_FILL)),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor(RULE)),
        ]
    style += [
        ("BACKGROUND", (0, r), (-1, r), colors.HexColor(ZEBRA))
        for r in range(first + 1, len(rows), 2)
    ]
    style += list(extra)
    kind = LongTable if long else Table
    return kind(
        rows,
        colWidths=list(widths),
        repeatRows=1 if header else 0,
        hAlign="LEFT",
        style=TableStyle(style),
    )


def write_pdf(
    path: Path,
    story: list,
    *,
    title: str,
    subject: str,
    running_left: str,
    running_right: str,
    footer: str,
) -> Path:
    """Lay ``story`` out on A4 pages with the running header and the footer, into a
    temporary file moved onto ``path``. The caller holds ``LOCK``."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    def decorate(canvas, document) -> None:
        width, height = document.pagesize
        left, right = document.leftMargin, width - document.rightMargin
        canvas.saveState()
        canvas.setFillColor(colors.HexColor(MUTED))
        canvas.setStrokeColor(colors.HexColor(RULE))
        canvas.setLineWidth(0.5)
        canvas.setFont(FONT, 7.5)
        top = height - 12 * mm
        canvas.drawString(left, top, running_left)
        canvas.drawRightString(right, top, running_right)
        canvas.line(left, top - 2.5 * mm, right, top - 2.5 * mm)
        bottom = 10 * mm
        canvas.line(left, bottom + 3.5 * mm, right, bottom + 3.5 * mm)
        canvas.drawString(left, bottom, footer)
        canvas.drawRightString(right, bottom, f"Page {document.page}")
        canvas.restoreState()

    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        document = SimpleDocTemplate(
            str(temporary), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
            topMargin=20 * mm, bottomMargin=18 * mm, title=title, author="Quarterdeck",
            subject=subject, creator=f"Quarterdeck {__version__}", invariant=1, lang="en",
        )  # fmt: skip
        document.build(story, onFirstPage=decorate, onLaterPages=decorate)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


# --- a document as plain data -------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    text: str
    minor: bool = False  # a sub-heading


@dataclass(frozen=True)
class Paragraph:
    text: str
    small: bool = False  # the muted note style


@dataclass(frozen=True)
class Facts:
    """Label and value, two columns, no header."""

    rows: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    """A table with a header row; ``widths`` are shares of the page width (default equal)."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] = ()


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Paragraph | Facts | Table | PageBreak


@dataclass(frozen=True)
class Document:
    """A report as data: ``kind`` ("Release report") and ``title`` head the first page and
    the running header; ``footer`` is printed at the foot of every page."""

    kind: str
    title: str
    subtitle: str = ""
    footer: str = ""
    blocks: Sequence[Block] = field(default_factory=tuple)


def build_document(
    path: str | Path, document: Document, *, generated: datetime | None = None
) -> Path:
    """Write ``document`` as a PDF at ``path`` and return the path. Blocking."""
    path = Path(path)
    generated = generated or generated_default()
    with LOCK:
        register_fonts()
        story = _story(document, Styles.make(), generated)
        return write_pdf(
            path, story, title=f"{document.kind}: {document.title}", subject=document.footer,
            running_left=f"Quarterdeck · {document.kind}", running_right=document.title,
            footer=document.footer or f"Generated {generated:%Y-%m-%d %H:%M} UTC",
        )  # fmt: skip


def _story(document: Document, styles: Styles, generated: datetime) -> list:
    from reportlab.platypus import PageBreak as Break
    from reportlab.platypus import Paragraph as Para
    from reportlab.platypus import Spacer

    def paragraph(text: str, style: Any) -> Any:
        return Para(escape(text), style)

    width = page_width()
    story: list = [
        paragraph("QUARTERDECK", styles.small),
        paragraph(document.kind, styles.title),
        paragraph(document.title, styles.subtitle),
    ]
    if document.subtitle:
        story.append(paragraph(document.subtitle, styles.body))
    story += [
        paragraph(f"Generated {generated:%Y-%m-%d %H:%M:%S} UTC by Quarterdeck {__version__}",
                  styles.small),
        Spacer(1, 8),
    ]  # fmt: skip
    from reportlab.lib.styles import ParagraphStyle

    cell: Callable[[str], Any] = lambda text: paragraph(text, styles.cell)  # noqa: E731
    # A heading stays on the page of what it heads.
    heading = ParagraphStyle("heading-kept", styles.heading, keepWithNext=1)
    minor = ParagraphStyle("minor-kept", styles.minor, keepWithNext=1)
    for block in document.blocks:
        if isinstance(block, Heading):
            story.append(paragraph(block.text, minor if block.minor else heading))
            continue
        elif isinstance(block, Paragraph):
            story.append(paragraph(block.text, styles.small if block.small else styles.body))
        elif isinstance(block, Facts):
            rows = [[label, cell(value)] for label, value in block.rows]
            story.append(table(rows, [130, width - 130], header=False, right_from=2))
        elif isinstance(block, Table):
            shares = list(block.widths) or [1.0] * len(block.header)
            total = sum(shares)
            widths = [width * share / total for share in shares]
            rows = [list(block.header), *([cell(text) for text in row] for row in block.rows)]
            story.append(table(rows, widths, right_from=len(block.header), long=True))
        elif isinstance(block, PageBreak):
            story.append(Break())
        story.append(Spacer(1, 4))
    return story
