"""Text from the knowledge base or a user, made safe to show through Streamlit's Markdown.

Nothing is ever rendered as HTML: every such text goes through :func:`safe`, which escapes
Markdown and HTML (via :func:`ossdx.advice.export.escape_markdown`) and Streamlit's own directives
(``:red[...]``, ``:material/...:``, emoji short codes).
"""

from __future__ import annotations

from collections.abc import Iterable

from ossdx.advice.export import escape_markdown
from ossdx.core.errors import Problem
from ossdx.kb import KnowledgeBase


def safe(text: object, *, line_start: bool = True) -> str:
    """``text`` escaped so that ``st.markdown`` shows it literally, on one line."""
    return escape_markdown(text, line_start=line_start).replace(":", "\\:")


def code(text: object) -> str:
    """``text`` as a Markdown code span: shown literally, with no backslashes (for ids)."""
    flat = " ".join(str(text).split()).replace("`", "'")
    return f"`{flat}`"


def problem_lines(problems: Iterable[Problem | str]) -> str:
    """Problems as Markdown, one line each (``file:line: message``), shown literally."""
    return "  \n".join(safe(str(p)) for p in problems)


def percent(probability: float) -> str:
    """A probability as a percentage with one decimal (as in the exports)."""
    return f"{probability:.1%}"


def reference_lines(kb: KnowledgeBase, ids: Iterable[str]) -> list[str]:
    """Citations of reference ids, as Markdown list items (text escaped)."""
    lines = []
    for ref_id in dict.fromkeys(ids):
        ref = kb.references.get(ref_id)
        if ref is None:
            continue
        where = f" doi:{ref.doi}" if ref.doi else (f" {ref.url}" if ref.url else "")
        lines.append(f"- `{ref_id}` {safe(ref.citation + where, line_start=False)}")
    return lines
