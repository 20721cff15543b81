"""Pool every expert profile entry with the independent elicitation, at equal weights.

    python docs/elicitation/pool.py ANSWERS_DIR KB_DIR

Rewrites KB_DIR/diagnoses/*.yaml in place, line by line, so that comments and layout stay:
the ``p:`` mapping of every ``basis: expert`` entry that the elicitation answered becomes
(p_before + p_elicited) / 2, renormalised and rounded to three decimals, and
``elicitation_2026`` joins its references. Entries taken from a study are left alone. (This
edit was checked on 2026-12-06 and not kept: README.md here.)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

WIDTH = 96
PLAIN_KEY = re.compile(r"[a-z_][a-z0-9_]*")
YAML_WORDS = {"yes", "no", "on", "off", "true", "false"}


def pooled(before: dict[str, float], elicited: dict[str, float]) -> dict[str, float]:
    keys = list(before) + [k for k in elicited if k not in before]
    raw = {k: (float(before.get(k, 0)) + float(elicited.get(k, 0))) / 2 for k in keys}
    total = sum(raw.values())
    return {k: max(0.001, round(v / total, 3)) for k, v in raw.items()}


def flow_lines(p: dict[str, float]) -> list[str]:
    """``    p: {...}`` wrapped as the files wrap it."""
    def key(k: str) -> str:
        return k if PLAIN_KEY.fullmatch(k) and k not in YAML_WORDS else f'"{k}"'
    text = "    p: {" + ", ".join(f"{key(k)}: {v:g}" for k, v in p.items()) + "}"
    lines = []
    while len(text) > WIDTH:
        cut = text.rfind(", ", 0, WIDTH)
        lines.append(text[:cut + 1])
        text = "        " + text[cut + 2:]
    return [*lines, text]


def rewrite(path: Path, elicited: dict[str, Any]) -> int:
    entries = {e["finding"]: e for e in yaml.safe_load(path.read_text()).get("profile", [])
               if e.get("basis") == "expert" and not e.get("given") and e["finding"] in elicited}
    lines = path.read_text().split("\n")
    out: list[str] = []
    current = None  # the profile entry being read, when it is pooled
    i = 0
    while i < len(lines):
        line = lines[i]
        match = re.match(r"^  - finding: (\S+)\s*$", line)
        if match or not line.startswith("    "):
            current = entries.get(match.group(1)) if match else None
        if current and line.startswith("    p: "):
            end = i
            while "}" not in lines[end]:
                end += 1
            out += flow_lines(pooled(current["p"], elicited[current["finding"]]))
            i = end + 1
            continue
        if current and line.startswith("    references: [") and "elicitation_2026" not in line:
            line = line.replace("[]", "[elicitation_2026]") if "[]" in line else \
                line.replace("]", ", elicitation_2026]", 1)
        out.append(line)
        i += 1
    path.write_text("\n".join(out))
    return len(entries)


def main(answers_dir: Path, kb_dir: Path) -> None:
    elicited: dict[str, dict[str, Any]] = {}
    for path in sorted(answers_dir.glob("*.yaml")):
        for dx, findings in (yaml.safe_load(path.read_text()) or {}).items():
            elicited.setdefault(dx, {}).update(findings or {})
    for path in sorted((kb_dir / "diagnoses").glob("*.yaml")):
        dx = yaml.safe_load(path.read_text())["id"]
        print(dx, rewrite(path, elicited.get(dx, {})))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
