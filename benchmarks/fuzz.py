"""Mutation fuzzing of every file ossdx reads: knowledge-base files, case files, response files.

Each input is a valid file with one to three random mutations (deleted, duplicated or
swapped lines; YAML-significant tokens inserted: anchors, aliases, tags, tabs, brackets,
colons, NUL and invalid UTF-8 bytes, bare yes/no, 1.10; truncation; re-indentation; typos in
keys and values). Every input must either load or raise the project's ``InputError`` whose
problems all name an existing file and a line between 1 and the file's length. Anything
else is a crash.

    python -m benchmarks.fuzz [--n 1000] [--seed 1]

prints the counts (inputs tried, outcomes, errors by kind, crashes) and, last, one JSON line.
The same generator runs in the test suite (tests/test_fuzz.py) with a fixed seed.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ossdx.core.errors import InputError
from ossdx.core.loader import iter_yaml_files
from ossdx.kb import check_knowledge_base, load_knowledge_base

TOKENS = [
    ":", ": ", "- ", "-", "{", "}", "[", "]", ",", "&a ", "*a", "&anchor [1, 2]", "*anchor",
    "!!python/object/apply:os.system ['true']", "!!binary aGVsbG8=", "!custom x", "\t",
    "\"", "'", "#", "|", ">", "yes", "no", "NO", "off", "1.10", "0x1F", "1e400", ".nan",
    "~", "null", "2024-13-45", "---\n", "...\n", "? ", "%YAML 1.1\n", "\x00", "\ufeff",
    "\u202e", "<img src=x onerror=alert(1)>", "[" * 60, "{a: " * 30, "é", "😀", "\\",
    "  ", "\n", "\r\n", "x" * 200,
]
WORDS = ["spine", "lytic", "yes", "no", "metastasis", "region", "density", "findings",
         "patient", "truth", "when", "rules", "id", "effect", "strength", "-1", "999999",
         "[]", "{}", "null", "true"]


def mutate(text: str, rng: random.Random) -> bytes:
    """One to three random mutations of a YAML text, as bytes (some not valid UTF-8)."""
    lines = text.split("\n")
    raw_suffix = b""
    for _ in range(rng.randint(1, 3)):
        choice = rng.randrange(10)
        i = rng.randrange(len(lines)) if lines else 0
        if choice == 0 and lines:
            del lines[i]
        elif choice == 1 and lines:
            lines.insert(i, lines[i])
        elif choice == 2 and len(lines) > 1:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif choice == 3 and lines:
            line = lines[i]
            k = rng.randint(0, len(line))
            lines[i] = line[:k] + rng.choice(TOKENS) + line[k:]
        elif choice == 4 and lines:
            line = lines[i]
            if ":" in line:
                key, _, _ = line.partition(":")
                lines[i] = f"{key}: {rng.choice(WORDS + TOKENS)}"
        elif choice == 5 and lines:
            lines[i] = " " * rng.randint(0, 6) + lines[i].lstrip()
        elif choice == 6:
            cut = rng.randint(0, max(0, len("\n".join(lines)) - 1))
            lines = "\n".join(lines)[:cut].split("\n")
        elif choice == 7 and lines:
            line = lines[i]
            k = rng.randint(0, len(line))
            lines[i] = line[:k] + line[k + 1:]
        elif choice == 8:
            raw_suffix += rng.choice([b"\xff\xfe", b"\x80", b"\xc3\x28", b"\x00"])
        else:
            lines.insert(i, f"{rng.choice(WORDS)}: {rng.choice(WORDS + TOKENS)}")
    return "\n".join(lines).encode("utf-8", "surrogatepass") + raw_suffix


@dataclass
class Tally:
    """Outcomes of a fuzz run."""

    tried: int = 0
    loaded: int = 0
    rejected: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"tried": self.tried, "loaded": self.loaded, "rejected": self.rejected,
                "errors_by_kind": dict(sorted(self.kinds.items())),
                "crashes": len(self.crashes)}


def _line_count(path: Path) -> int:
    data = path.read_bytes()
    return max(1, data.count(b"\n") + (0 if data.endswith(b"\n") else 1))


def check_problems(problems: list, files: dict[str, Path]) -> str | None:
    """None when every problem names a known file and a line inside it; else why not."""
    if not problems:
        return "rejected without any problem"
    for problem in problems:
        path = files.get(problem.location.file)
        if path is None:
            return f"problem names an unknown file: {problem}"
        line = problem.location.line
        if line is None or not 1 <= line <= _line_count(path):
            return f"line outside the file ({_line_count(path)} lines): {problem}"
    return None


def fuzz_files(sources: list[Path], load: Callable[[Path, str], object], n: int, seed: int,
               workdir: Path) -> Tally:
    """Mutate ``sources`` ``n`` times; ``load(path, shown_name)`` must load or raise
    InputError naming ``shown_name`` and a line inside the file."""
    rng = random.Random(seed)
    tally = Tally()
    texts = [p.read_text(encoding="utf-8") for p in sources]
    for index in range(n):
        source = rng.randrange(len(sources))
        path = workdir / f"input{index % 7}.yaml"
        path.write_bytes(mutate(texts[source], rng))
        shown = str(path)
        tally.tried += 1
        try:
            load(path, shown)
        except InputError as exc:
            tally.rejected += 1
            tally.kinds.update(p.code for p in exc.problems)
            why = check_problems(list(exc.problems), {shown: path})
            if why:
                tally.crashes.append(why)
        except Exception:
            tally.crashes.append(traceback.format_exc(limit=3))
        else:
            tally.loaded += 1
    return tally


def fuzz_kb(kb_root: Path, n: int, seed: int) -> Tally:
    """Mutate one file of a copy of ``kb_root`` at a time and check the whole KB."""
    rng = random.Random(seed)
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kb"
        shutil.copytree(kb_root, root, ignore=shutil.ignore_patterns("cases", "response_cases"))
        files = [p for p in iter_yaml_files(root)]
        originals = {p: p.read_bytes() for p in files}
        shown = {str(p.relative_to(root.parent)): p for p in files}
        for _ in range(n):
            target = rng.choice(files)
            target.write_bytes(mutate(originals[target].decode("utf-8"), rng))
            tally.tried += 1
            try:
                kb, problems = check_knowledge_base(root)
            except Exception:
                tally.crashes.append(traceback.format_exc(limit=3))
            else:
                errors = [p for p in problems if p.severity.value == "error"]
                if kb is not None:
                    tally.loaded += 1
                else:
                    tally.rejected += 1
                    tally.kinds.update(p.code for p in errors)
                    why = check_problems(errors, shown)
                    if why:
                        tally.crashes.append(why)
            target.write_bytes(originals[target])
    return tally


def fuzz_cases(kb_root: Path | None, case_dir: Path, n: int, seed: int) -> Tally:
    from ossdx.reasoning.cases import load_case

    kb = load_knowledge_base(kb_root)
    sources = sorted(iter_yaml_files(case_dir))
    with tempfile.TemporaryDirectory() as tmp:
        return fuzz_files(sources, lambda p, name: load_case(p, kb, name=name), n, seed,
                          Path(tmp))


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="inputs per kind of file")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    kb = load_knowledge_base()
    results = {
        "kb_files": fuzz_kb(kb.root, args.n, args.seed),
        "case_files": fuzz_cases(None, kb.root / "cases" / "seed", args.n, args.seed),
    }
    from ossdx.response.assess import load_response_criteria
    from ossdx.response.files import load_response_file

    criteria = load_response_criteria(kb)
    sources = sorted(iter_yaml_files(kb.root / "response_cases"))
    with tempfile.TemporaryDirectory() as tmp:
        results["response_files"] = fuzz_files(
            sources, lambda p, name: load_response_file(p, kb, criteria, name=name), args.n,
            args.seed, Path(tmp))
    print(f"{'input kind':16} {'tried':>6} {'loaded':>7} {'rejected':>9} {'crashes':>8}")
    for name, tally in results.items():
        print(f"{name:16} {tally.tried:6d} {tally.loaded:7d} {tally.rejected:9d} "
              f"{len(tally.crashes):8d}")
    for name, tally in results.items():
        print(f"{name} errors by kind: " + ", ".join(f"{k} {v}" for k, v in
                                                     sorted(tally.kinds.items())))
        for crash in tally.crashes[:3]:
            print(f"  CRASH: {crash}")
    summary = {name: tally.as_dict() for name, tally in results.items()}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
