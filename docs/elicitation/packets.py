"""Write the elicitation packets: each group of diagnoses with its descriptions, the
definitions of the findings its profiles state, and a template with every figure blank.

    python docs/elicitation/packets.py OUT_DIR

No figure of the knowledge base goes into a packet: only which findings each profile states.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from ossdx.kb import KnowledgeBase, load_knowledge_base
from ossdx.kb.profiles import value_keys

GROUPS = [["metastasis"], ["treated_metastasis", "red_marrow", "radiation_change"],
          ["hemangioma", "bone_island", "osteopoikilosis"],
          ["schmorl_node", "degenerative", "osteoporotic_fracture"],
          ["enchondroma", "chondrosarcoma", "bone_infarct"],
          ["insufficiency_fracture", "sacroiliitis", "paget"],
          ["myeloma", "lymphoma", "osteomyelitis"],
          ["fibrous_dysplasia", "other"]]


def finding_definition(kb: KnowledgeBase, finding: str) -> dict[str, Any]:
    spec = kb.findings[finding]
    out: dict[str, Any] = {"name": spec.name}
    if spec.help:
        out["help"] = " ".join(str(spec.help).split())
    condition = spec.ask_when or spec.requires
    if condition:
        out["assessed_only_when"] = (condition.model_dump() if hasattr(condition, "model_dump")
                                     else condition)
    unit = f" {spec.unit}" if spec.unit else ""
    out["values"] = {k.key: (f"bin {k.key}{unit}" if spec.type in ("number", "integer")
                             else spec.values[k.key].label) for k in value_keys(spec)}
    return out


def packet(kb: KnowledgeBase, group: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {"diagnoses": {}, "findings": {}, "to_fill": {}}
    for dx in group:
        raw = yaml.safe_load((kb.root / "diagnoses" / f"{dx}.yaml").read_text())
        result["diagnoses"][dx] = {"name": raw["name"],
                                   "description": " ".join(str(raw.get("description")).split())}
        blank: dict[str, Any] = {}
        for entry in raw.get("profile", []):
            if entry.get("given"):
                continue
            definition = finding_definition(kb, entry["finding"])
            result["findings"][entry["finding"]] = definition
            blank[entry["finding"]] = dict.fromkeys(definition["values"])
        result["to_fill"][dx] = blank
    return result


def main(out: Path) -> None:
    kb = load_knowledge_base(None)
    assert sorted(dx for group in GROUPS for dx in group) == sorted(kb.diagnoses)
    out.mkdir(parents=True, exist_ok=True)
    for number, group in enumerate(GROUPS, 1):
        text = yaml.safe_dump(packet(kb, group), sort_keys=False, allow_unicode=True, width=100)
        (out / f"packet{number:02d}.yaml").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
