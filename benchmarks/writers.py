"""What a blind case writer is given, and the one check they may run.

    python -m benchmarks.writers pack --out DIR          # VOCABULARY.md and USED_SOURCES.txt
    python -m benchmarks.writers check FILE_OR_FOLDER ...

A blind set is only honest if its writers never see how ossdx reasons
(docs/EVALUATION.md). They get a brief (the fifth set's is
knowledge_base/cases/blind5/BRIEF.md), the vocabulary in words, the publications earlier
sets used, and a checker:

``pack`` writes ``VOCABULARY.md`` (every modality, finding, patient field and diagnosis id
with its question, help, values and description, from the knowledge base's vocabulary
files: no likelihood, rule or profile) and ``USED_SOURCES.txt`` (the ``source`` of every
case file under ``cases/``, one per line, so that no publication is used twice; written, not
printed, since held-out files are among them).

``check`` validates case files as the blind sets require: the first line ``# Blind
vignette. Difficulty: typical.`` (or ``hard.``), the keys a vignette needs, an ``id`` equal
to the file name, a ``truth``, and everything the case-file contract checks (ids, values,
modalities), each problem as ``file:line: message``. It never ranks anything. Exit 0 when
every file passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ossdx.core.errors import InputError
from ossdx.core.loader import read_document
from ossdx.kb import load_knowledge_base
from ossdx.kb.model import KnowledgeBase
from ossdx.kb.schema import Variable
from ossdx.reasoning.cases import load_case

FIRST_LINE = re.compile(r"# Blind vignette\. Difficulty: (typical|hard)\.")
REQUIRED = ("id", "title", "narrative", "source", "patient", "modalities", "findings", "truth")


def _values(spec: Variable) -> str:
    if spec.type in ("number", "integer"):
        return f"A number{' in ' + spec.unit if spec.unit else ''}."
    several = " (a list: several may apply)" if spec.type == "multi" else ""
    return (f"Values{several}: "
            + "; ".join(f"`{key}` = {value.label}" for key, value in spec.values.items()))


def _patient_field(spec: Variable, prefix: str = "") -> list[str]:
    lines = [f"### `{prefix}{spec.id}`: {spec.name}", f"Question: {spec.question}",
             f"Help: {spec.help.strip()}"]
    if spec.type == "group":
        lines.append("A group of: " + ", ".join(f"`{f.id}`" for f in spec.fields)
                     + " (a nested mapping)")
        for field in spec.fields:
            lines += _patient_field(field, f"{prefix}{spec.id}.")
        return lines
    return [*lines, _values(spec), ""]


def vocabulary_text(kb: KnowledgeBase) -> str:
    """The vocabulary in words, as a writer needs it (nothing of how it is weighed)."""
    vocab = kb.vocabulary
    lines = ["# The ossdx vocabulary for case writers", "",
             "Every modality, finding, patient field and diagnosis id a case file may use. A "
             "finding not given is 'not assessed'. Values are the ids in backticks.", "",
             "## Modalities", ""]
    lines += [f"- `{mid}`: {m.name}" for mid, m in vocab.modalities.items()]
    lines += ["", "## Findings (under `findings:`)", ""]
    for fid, spec in vocab.findings.items():
        lines += [f"### `{fid}`: {spec.name}", f"Question: {spec.question}",
                  f"Help: {spec.help.strip()}"]
        if spec.needs:
            lines.append(f"Shown by: {', '.join(spec.needs)} (list one under `modalities`)")
        if spec.ask_when:
            lines.append(f"Asked only when: {spec.ask_when}")
        lines += [_values(spec), ""]
    lines += ["## Patient fields (under `patient:`)", ""]
    for spec in vocab.patient.values():
        lines += _patient_field(spec)
    lines += ["## Diagnoses (for `truth:` and `acceptable:`)", ""]
    lines += [f"- `{dx.id}`: {dx.name}. {' '.join(dx.description.split())}"
              for dx in kb.diagnoses.values()]
    return "\n".join(lines) + "\n"


def used_sources(kb: KnowledgeBase) -> list[str]:
    """The ``source`` of every case file under the knowledge base's ``cases/``, deduplicated."""
    found = set()
    for path in sorted((kb.root / "cases").rglob("*.yaml")):
        try:
            data = read_document(path).data
        except InputError:
            continue
        if isinstance(data, dict) and data.get("source"):
            found.add(" ".join(str(data["source"]).split()))
    return sorted(found)


def check_file(path: Path, kb: KnowledgeBase) -> list[str]:
    """The problems of one vignette, each as ``file:line: message`` (empty when it passes)."""
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0].strip() if text else ""
    problems = []
    if not FIRST_LINE.fullmatch(first):
        problems.append(f"{path}:1: the first line must be '# Blind vignette. Difficulty: "
                        "typical.' or '# Blind vignette. Difficulty: hard.'")
    problems += [f"{path}:1: missing top-level key '{key}'" for key in REQUIRED
                 if not re.search(rf"(?m)^{key}:", text)]
    try:
        case = load_case(path, kb)
    except InputError as err:
        return problems + [str(problem) for problem in err.problems]
    declared = re.search(r"(?m)^id:\s*(\S+)", text)
    if declared and declared.group(1) != path.stem:
        problems.append(f"{path}:1: 'id' must equal the file name ('{path.stem}')")
    if case.truth is None:
        problems.append(f"{path}:1: 'truth' must name a diagnosis id")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pack = sub.add_parser("pack", help="write VOCABULARY.md and USED_SOURCES.txt into a folder")
    pack.add_argument("--out", type=Path, required=True)
    check = sub.add_parser("check", help="check vignettes (format and vocabulary only)")
    check.add_argument("paths", type=Path, nargs="+", metavar="FILE_OR_FOLDER")
    args = parser.parse_args(argv)
    kb = load_knowledge_base()
    if args.command == "pack":
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "VOCABULARY.md").write_text(vocabulary_text(kb), encoding="utf-8")
        sources = used_sources(kb)
        (args.out / "USED_SOURCES.txt").write_text("\n".join(sources) + "\n", encoding="utf-8")
        print(f"wrote {args.out / 'VOCABULARY.md'} and {args.out / 'USED_SOURCES.txt'} "
              f"({len(sources)} sources); a brief to adapt: "
              "knowledge_base/cases/blind5/BRIEF.md")
        return 0
    files = [f for p in args.paths for f in (sorted(p.rglob("*.yaml")) if p.is_dir() else [p])]
    failed = 0
    for path in files:
        problems = check_file(path, kb)
        failed += bool(problems)
        print("\n".join(problems) if problems else f"ok {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
