"""Pool each expert profile entry with the independent elicitation (equal weights).

    python pool.py ANSWERS_DIR KB_DIR RECORD_OUT

Rewrites KB_DIR/diagnoses/*.yaml in place, textually (comments and layout kept): the `p:`
mapping of every `basis: expert` entry that the elicitation answered becomes
(p_old + p_elicited) / 2, rounded to 3 decimals; `elicitation_2026` joins its references.
Writes RECORD_OUT: for each entry, the figures before, elicited and pooled."""
import glob, sys, re, yaml
from pathlib import Path
answers_dir, kb_dir, record_out = sys.argv[1:4]
elicited = {}
for f in sorted(glob.glob(f"{answers_dir}/*.yaml")):
    for dx, fs in (yaml.safe_load(open(f)) or {}).items():
        elicited.setdefault(dx, {}).update(fs)
def fmt(x):
    s = f"{x:.3f}".rstrip("0").rstrip(".")
    return s if s not in ("0", "") else "0.001"
def pool(old, new):
    keys = list(old)  # keep the file's order
    for k in new:
        if k not in keys: keys.append(k)
    raw = {k: (float(old.get(k, 0)) + float(new.get(k, 0))) / 2 for k in keys}
    tot = sum(raw.values())
    return {k: max(0.001, round(v / tot, 3)) for k, v in raw.items()}
def key_text(k):
    return k if re.fullmatch(r"[a-z_][a-z0-9_]*", k) and k not in ("yes", "no", "on", "off", "true", "false") else f'"{k}"'
record = {}
for path in sorted(Path(kb_dir, "diagnoses").glob("*.yaml")):
    data = yaml.safe_load(path.read_text())
    dx = data["id"]
    if dx not in elicited: continue
    lines = path.read_text().split("\n")
    entries = {e["finding"]: e for e in data.get("profile", []) if not e.get("given")}
    in_profile = False; i = 0; changed = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^profile:", line): in_profile = True
        elif re.match(r"^[a-z_]+:", line): in_profile = False
        m = re.match(r"^  - finding: (\S+)\s*$", line) if in_profile else None
        if m and m.group(1) in entries and entries[m.group(1)]["basis"] == "expert" \
                and m.group(1) in elicited[dx]:
            fid = m.group(1); e = entries[fid]
            j = i + 1
            while j < len(lines) and lines[j].startswith("    "):
                if lines[j].startswith("    p: "):
                    k = j
                    while lines[k].count("}") < 1: k += 1
                    new = pool(e["p"], elicited[dx][fid])
                    body = ", ".join(f"{key_text(a)}: {fmt(b)}" for a, b in new.items())
                    text = f"    p: {{{body}}}"
                    # wrap at 100 columns like the files
                    out = []; cur = text
                    while len(cur) > 96:
                        cut = cur.rfind(", ", 0, 96)
                        out.append(cur[:cut + 1]); cur = "        " + cur[cut + 2:]
                    out.append(cur)
                    lines[j:k + 1] = out
                    j += len(out) - 1
                    record.setdefault(dx, {})[fid] = {"before": e["p"], "elicited": elicited[dx][fid], "pooled": new}
                elif lines[j].startswith("    references: ["):
                    if "elicitation_2026" not in lines[j]:
                        lines[j] = lines[j].replace("]", ", elicitation_2026]", 1) if lines[j].rstrip() != "    references: []" else "    references: [elicitation_2026]"
                j += 1
            changed += 1
            i = j; continue
        i += 1
    path.write_text("\n".join(lines))
    print(dx, changed)
Path(record_out).write_text(yaml.safe_dump(record, sort_keys=False, width=100))
