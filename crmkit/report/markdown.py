"""The Markdown report, for chat and email: headline, each section's tables, one line per gap.

Cells are escaped so data cannot break a table (`|`, newlines) or inject HTML (`<`, `>`, `&`)
when a chat client or mail reader renders the Markdown.
"""

from __future__ import annotations

from crmkit.report.data import Column, ReportData, Section, Table, format_cell


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    return " ".join(text.split())


def _table(data: ReportData, tb: Table) -> list[str]:
    fmt = data.fmt
    cols = tb.columns
    right = [c.kind != "text" for c in cols]
    lines = [
        "| " + " | ".join(md_escape(c.label) for c in cols) + " |",
        "|" + "|".join("---:" if r else "---" for r in right) + "|",
    ]
    for row in tb.rows():
        lines.append("| " + " | ".join(md_escape(format_cell(fmt, row, c)) for c in cols) + " |")
    return lines


def _cards(data: ReportData, sec: Section) -> list[str]:
    fmt = data.fmt
    target = Column("target", "", "target")
    lines = [
        f"| {data.label('metric')} | {data.label('value')} | {data.label('delta')} "
        f"| {data.label('target')} |",
        "|---|---:|---:|---|",
    ]
    for c in sec.cards:
        if c["status"] != "ok":
            value, change, tgt = "—", "", md_escape(c.get("reason") or "")
        else:
            value = fmt.headline(c["value"], c["unit"])
            change = fmt.delta(c["delta"], c["unit"]) if c["delta"] is not None else ""
            tgt = format_cell(fmt, c, target)
            if c["target_met"] is not None:
                tgt += " ✅" if c["target_met"] else " ❌"
        lines.append(f"| {md_escape(c['name'])} | {md_escape(value)} | {change} | {tgt} |")
    return lines


def render_markdown(data: ReportData) -> str:
    """The report as GitHub-flavoured Markdown text."""
    out = [f"# {md_escape(data.title)}", "", md_escape(data.subtitle()), ""]
    out += [f"_{md_escape(data.privacy_note())}_", ""]
    for sec in data.sections:
        out += [f"## {md_escape(sec.title)}", ""]
        if not sec.ok:
            out += [f"_{data.label('unavailable')}: {md_escape(sec.reason or '')}_", ""]
            continue
        if sec.cards:
            out += [*_cards(data, sec), ""]
            continue
        for tb in sec.tables:
            if not tb.columns:
                continue
            if tb.title and tb.title != sec.title:
                out += [f"### {md_escape(tb.title)}", ""]
            out += [*_table(data, tb), ""]
        for note in sec.notes:
            out += [f"_{md_escape(note)}_", ""]
    out.append(f"{data.label('generated_by')} {data.version}")
    return "\n".join(out) + "\n"
