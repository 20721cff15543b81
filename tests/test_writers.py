"""The blind writers' pack and checker (benchmarks/writers.py).

A writer sees the vocabulary in words and nothing of how it is weighed; the checker passes a
well-formed vignette and names the file and line of what is wrong in a bad one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.writers import check_file, main, used_sources, vocabulary_text

from conftest import KB_DIR

TUNING = KB_DIR / "cases" / "blind" / "tuning" / "ba01.yaml"  # a tuning vignette


def vignette(tmp_path: Path, name: str = "xz01", first: str = "# Blind vignette. "
             "Difficulty: hard.", replace: tuple[str, str] | None = None) -> Path:
    """The tuning vignette renamed ``name``, with another first line or one text replaced."""
    text = TUNING.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines()[1:] if not line.startswith("id:")]
    body = "\n".join(lines)
    if replace:
        assert replace[0] in body
        body = body.replace(*replace)
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"{first}\nid: {name}\n{body}\n", encoding="utf-8")
    return path


def test_the_vocabulary_names_every_id_and_no_weight(kb):
    text = vocabulary_text(kb)
    for fid in kb.vocabulary.findings:
        assert f"### `{fid}`" in text
    for dx in kb.diagnoses:
        assert f"- `{dx}`:" in text
    for word in ("likelihood", "profile", "pseudo", "lr:"):
        assert word not in text.lower()


def test_the_used_sources_include_every_set(kb):
    sources = used_sources(kb)
    assert len(sources) > 500
    assert len(sources) == len(set(sources))


def test_a_good_vignette_passes_and_bad_ones_say_where(tmp_path, kb, capsys):
    good = vignette(tmp_path)
    assert check_file(good, kb) == []
    no_header = vignette(tmp_path, "xz02", first="# a note")
    assert check_file(no_header, kb) == [
        f"{no_header}:1: the first line must be '# Blind vignette. Difficulty: typical.' or "
        "'# Blind vignette. Difficulty: hard.'"]
    bad_value = vignette(tmp_path, "xz03", replace=("region: rib", "region: ribs"))
    (problem,) = check_file(bad_value, kb)
    line = next(i for i, text in enumerate(bad_value.read_text().splitlines(), 1)
                if "region: ribs" in text)
    assert problem.startswith(f"{bad_value}:{line}:") and "sternum" in problem
    renamed = tmp_path / "xz09.yaml"
    shutil.copy(good, renamed)
    assert check_file(renamed, kb) == [f"{renamed}:1: 'id' must equal the file name ('xz09')"]
    assert main(["check", str(good)]) == 0
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"ok {good}" in out and "xz03" in out
