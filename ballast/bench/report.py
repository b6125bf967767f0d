"""Tables printed as text and written as Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# ---------------------------------------------------------------- text and markdown tables


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    about: str = ""  # one sentence on what the table shows, written above it in Markdown

    def add(self, *cells) -> None:
        self.rows.append([_cell(c) for c in cells])

    def text(self) -> str:
        widths = [max(len(r[i]) for r in [self.headers, *self.rows]) for i in range(len(self.headers))]

        def line(cells):
            out = [cells[0].ljust(widths[0])]
            out += [c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(cells[1:], widths[1:])]
            return "  ".join(out).rstrip()

        body = [self.title, line(self.headers), "-" * (sum(widths) + 2 * (len(widths) - 1))]
        body += [line(r) for r in self.rows]
        body += [f"  {n}" for n in self.notes]
        return "\n".join(body)

    def markdown(self) -> str:
        align = ["---"] + [
            "---:" if any(_numeric(r[i]) for r in self.rows) else "---" for i in range(1, len(self.headers))
        ]
        out = [f"### {self.title}", ""] + ([self.about, ""] if self.about else [])
        out += ["| " + " | ".join(self.headers) + " |", "| " + " | ".join(align) + " |"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in self.rows]
        if self.notes:
            out += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(out)


def _cell(value) -> str:
    if isinstance(value, bool):
        return "met" if value else "NOT MET"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,]+(\.\d+)?x?( ms| s|/s)?|[-+]?\d[\d,]*\.?\d* \(\d+\)", cell.strip()))
