"""Elicitation packets: for each diagnosis, the findings its profile states, with the
finding definitions and value keys, and NO current figures."""
import yaml, glob, json
from ossdx.kb import load_knowledge_base
from ossdx.kb.profiles import value_keys
kb = load_knowledge_base(None)
groups = [["metastasis"], ["treated_metastasis", "red_marrow", "radiation_change"],
          ["hemangioma", "bone_island", "osteopoikilosis"],
          ["schmorl_node", "degenerative", "osteoporotic_fracture"],
          ["enchondroma", "chondrosarcoma", "bone_infarct"],
          ["insufficiency_fracture", "sacroiliitis", "paget"],
          ["myeloma", "lymphoma", "osteomyelitis"],
          ["fibrous_dysplasia", "other"]]
assert sorted(sum(groups, [])) == sorted(kb.diagnoses), set(kb.diagnoses) - set(sum(groups, []))
raw = {}
for f in glob.glob('knowledge_base/diagnoses/*.yaml'):
    d = yaml.safe_load(open(f)); raw[d['id']] = d
def finding_def(fid):
    spec = kb.findings[fid]
    out = {"name": spec.name}
    if spec.help: out["help"] = " ".join(str(spec.help).split())
    cond = getattr(spec, "ask_when", None) or getattr(spec, "requires", None)
    if cond: out["assessed_only_when"] = json.loads(json.dumps(cond, default=str)) if not hasattr(cond, "model_dump") else cond.model_dump()
    keys = value_keys(spec)
    if spec.type in ("number", "integer"):
        out["values"] = {k.key: f"bin {k.key} {spec.unit or ''}".strip() for k in keys}
    else:
        out["values"] = {k.key: spec.values[k.key].label for k in keys}
    return out
for i, group in enumerate(groups, 1):
    packet = {"diagnoses": {}, "findings": {}, "to_fill": {}}
    for dx in group:
        d = raw[dx]
        packet["diagnoses"][dx] = {"name": d["name"], "description": " ".join(str(d.get("description", "")).split())}
        fill = {}
        for e in d.get("profile", []):
            if e.get("given"): continue
            fid = e["finding"]
            packet["findings"][fid] = finding_def(fid)
            fill[fid] = {k: None for k in packet["findings"][fid]["values"]}
        packet["to_fill"][dx] = fill
    open(f"docs/elicitation/packet{i:02d}.yaml", "w").write(yaml.safe_dump(packet, sort_keys=False, allow_unicode=True, width=100))
    print(i, group, sum(len(v) for v in packet["to_fill"].values()))
