"""A standalone HTML drift report: summary, a table of every test, a chart per drifted column."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._report import Distribution, DriftReport

_STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.yes{color:#b00020;font-weight:bold}figure{display:inline-block;margin:1rem}"""


def report_html(report: DriftReport) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c.column)}</td><td>{c.method}</td><td>{_fmt(c.statistic)}</td>"
        f"<td>{c.threshold:g}</td><td>{c.test}</td><td>{_fmt(c.p_value)}</td><td>{_fmt(c.p_adjusted)}</td>"
        f"<td class='{'yes' if c.drifted else 'no'}'>{'yes' if c.drifted else 'no'}</td>"
        f"<td>{html.escape(c.note)}</td></tr>"
        for c in report.rows()
    )
    charts = "".join(
        f"<figure>{distribution_svg(d)}<figcaption>{html.escape(name)}</figcaption></figure>"
        for name, d in report.distributions.items()
    )
    excluded = "".join(f"<li>{html.escape(n)}: {html.escape(r)}</li>" for n, r in report.excluded.items())
    if excluded:
        excluded = f"<p>Not tested, by design:</p><ul>{excluded}</ul>"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Drift report</title>"
        f"<style>{_STYLE}</style></head><body><h1>Drift report</h1><p>{html.escape(report.summary())}</p>"
        "<table><tr><th>column</th><th>method</th><th>effect</th><th>threshold</th><th>test</th>"
        f"<th>p-value</th><th>adjusted p</th><th>drifted</th><th>note</th></tr>{rows}</table>"
        f"{excluded}{charts}</body></html>"
    )


def distribution_svg(distribution: Distribution, width: int = 420, height: int = 180) -> str:
    """Side-by-side bars of reference (grey) and current (red) shares, as inline SVG."""
    count = max(len(distribution.labels), 1)
    top = max([*distribution.reference, *distribution.current, 1e-9])
    slot = (width - 20) / count
    bars = []
    for i, (ref, cur) in enumerate(zip(distribution.reference, distribution.current, strict=True)):
        x = 10 + i * slot
        for offset, share, colour in ((0.0, ref, "#9e9e9e"), (slot / 2, cur, "#d32f2f")):
            bar = (height - 30) * share / top
            bars.append(
                f"<rect x='{x + offset:.1f}' y='{height - 20 - bar:.1f}' width='{max(slot / 2 - 1, 1):.1f}' "
                f"height='{bar:.1f}' fill='{colour}'><title>{html.escape(distribution.labels[i])}: "
                f"{share:.1%}</title></rect>"
            )
    if count <= 12:  # few bars: name each one under it
        for i, label in enumerate(distribution.labels):
            centre = 10 + i * slot + slot / 2
            bars.append(
                f"<text x='{centre:.1f}' y='{height - 8}' font-size='10' text-anchor='middle'>"
                f"{html.escape(label[:14])}</text>"
            )
        height += 14
    legend = (
        f"<text x='10' y='{height - 4}' font-size='11' fill='#9e9e9e'>reference</text>"
        f"<text x='80' y='{height - 4}' font-size='11' fill='#d32f2f'>current</text>"
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'>{''.join(bars)}{legend}</svg>"
    )


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"
