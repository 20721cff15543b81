"""Charts shared by the app and the documentation (Altair specifications; no Streamlit).

The app draws them with ``st.altair_chart``; ``python -m benchmarks.accuracy --plot`` saves
the same specification as an SVG for docs/ (which needs the ``docs`` extra's vl-convert).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import altair as alt


def reliability_chart(rows: Sequence[dict[str, Any]], *,
                      title: str | None = None) -> alt.LayerChart | alt.FacetChart:
    """Bins of the leader's probability (mean probability of the bin) against the share of
    cases where the leader was right; the diagonal of perfect calibration; the number of
    cases of each bin on its point. ``rows`` as ``ossdx evaluate --json`` gives them
    (``reliability``: bin, n, confidence, accuracy)."""
    import altair as alt  # here: 0.15 s of import that only this chart needs

    data = [{"bin": r["bin"], "probability": r["confidence"], "right": r["accuracy"],
             "cases": r["n"]} for r in rows]
    axis = alt.Scale(domain=[0, 1])
    diagonal = alt.Chart(alt.Data(values=[{"probability": 0, "right": 0},
                                          {"probability": 1, "right": 1}])).mark_line(
        strokeDash=[5, 5], color="#8c959f").encode(x="probability:Q", y="right:Q")
    base = alt.Chart(alt.Data(values=data)).encode(
        x=alt.X("probability:Q", scale=axis, title="Leader's probability (mean of the bin)",
                axis=alt.Axis(format="%")),
        y=alt.Y("right:Q", scale=axis, title="Share of cases where the leader was right",
                axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("bin:N", title="Probability bin"),
                 alt.Tooltip("cases:Q", title="Cases"),
                 alt.Tooltip("probability:Q", title="Mean probability", format=".1%"),
                 alt.Tooltip("right:Q", title="Leader right", format=".1%")])
    line = base.mark_line(color="#1f6feb")
    points = base.mark_circle(color="#1f6feb", opacity=0.9).encode(
        size=alt.Size("cases:Q", title="Cases", scale=alt.Scale(range=[40, 400])))
    counts = base.mark_text(dy=-14, fontSize=12, color="#1f2328").encode(text="cases:Q")
    chart = alt.layer(diagonal, line, points, counts).properties(height=380)
    return chart.properties(title=title) if title else chart


def pooled(tables: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Reliability rows of several case sets merged bin by bin (case-weighted)."""
    bins: dict[str, dict[str, float]] = {}
    for rows in tables:
        for r in rows:
            b = bins.setdefault(r["bin"], {"n": 0, "confidence": 0.0, "accuracy": 0.0})
            b["n"] += r["n"]
            b["confidence"] += r["confidence"] * r["n"]
            b["accuracy"] += r["accuracy"] * r["n"]
    return [{"bin": k, "n": int(b["n"]), "confidence": b["confidence"] / b["n"],
             "accuracy": b["accuracy"] / b["n"]} for k, b in sorted(bins.items())]
