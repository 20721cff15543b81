"""The calibration display of the knowledge-base page (AppTest): the leader's reliability
diagram and ECE over the seed, literature and blind tuning sets, never a held-out folder;
labelled as the cases the knowledge base was tuned on; computed only when its section is
opened, once per knowledge-base version.

The knowledge base served is a copy of the shipped one without its case files (so no
held-out case is ever copied or opened); its case folders are filled with seed cases."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from apptest import APP, run
from streamlit.testing.v1 import AppTest

from ossdx.authoring import evaluate as evaluation
from ossdx.kb import load_knowledge_base

from conftest import KB_DIR

KB_PAGE = "ui/screens/knowledge_base.py"
# where the copied seed cases go: three tuning sets, the held-out folder, and a folder that
# is neither (not counted either)
LAYOUT = {"seed": 3, "literature": 2, "blind/tuning": 2, "blind/test": 2, "other": 1}
TUNED = ("seed", "literature", "blind/tuning")


@pytest.fixture
def small_kb(tmp_path, monkeypatch) -> Path:
    """The shipped KB without its cases, with seed cases spread over the folders of LAYOUT,
    served through OSSDX_KB."""
    root = tmp_path / "kb"
    shutil.copytree(KB_DIR, root, ignore=lambda folder, names:
                    ["cases"] if Path(folder) == KB_DIR else [])
    seeds = iter(sorted((KB_DIR / "cases" / "seed").glob("*.yaml")))
    for folder, count in LAYOUT.items():
        target = root / "cases" / folder
        target.mkdir(parents=True)
        for _ in range(count):
            source = next(seeds)
            text = source.read_text(encoding="utf-8")
            if "images:" in text:  # their image files stay behind: keep the findings only
                text = text[:text.index("\nimages:")] + "\n"
            (target / source.name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("OSSDX_KB", str(root))
    assert "cases/blind/test" in load_knowledge_base(root).manifest.held_out_cases
    return root


def expected_report(root: Path) -> dict:
    """The engine's evaluation of the tuning sets alone."""
    kb = load_knowledge_base(root)
    cases = [c for name in TUNED for c in evaluation.load_cases(root / "cases" / name, kb)[0]]
    return evaluation.evaluate(kb, cases)


def open_calibration(at: AppTest) -> AppTest:
    at.button_group(key="kb_section").set_value("Calibration")
    return run(at)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_reliability_diagram_covers_the_tuning_sets_only(small_kb):
    """Cases counted: the three tuning sets (not the held-out folder, not another folder);
    the ECE and every bin are the engine's; the chart has the diagonal and the counts; the
    page says these are the cases the knowledge base was tuned on."""
    from ossdx.ui import kb_page

    kb_page._calibration.clear()
    expected = expected_report(small_kb)
    assert expected["n"] == sum(LAYOUT[name] for name in TUNED)
    at = run(AppTest.from_file(APP, default_timeout=60))
    at.switch_page(KB_PAGE)
    open_calibration(run(at))
    shown = metrics(at)
    assert shown["Cases"] == str(expected["n"])
    assert shown["ECE (10 bins)"] == f"{expected['ece']:.3f}"
    text = re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for e in (*at.markdown, *at.caption)))
    assert "cases the knowledge base was tuned on" in text
    assert "seed 3, literature 2, blind/tuning 2" in text

    (chart,) = at.get("vega_lite_chart")
    layers = json.loads(chart.proto.spec)["layer"]
    data = [layer["data"]["values"] for layer in layers]
    assert [{"probability": 0, "right": 0}, {"probability": 1, "right": 1}] in data
    bins = [(r["bin"], r["n"], r["confidence"], r["accuracy"])
            for r in expected["reliability"]]
    drawn = next(d for d in data if d and "cases" in d[0])
    assert [(d["bin"], d["cases"], pytest.approx(d["probability"]), d["right"])
            for d in drawn] == bins
    assert any(layer["mark"]["type"] == "text" and layer["encoding"]["text"]["field"] == "cases"
               for layer in layers)
    (table,) = at.dataframe
    assert list(table.value["cases"]) == [r["n"] for r in expected["reliability"]]


def test_it_is_computed_when_opened_and_once_per_kb_version(small_kb, monkeypatch):
    """Opening the page does not evaluate; opening the section does, once; a second visit
    and a second session reuse it; an edit that changes the knowledge base computes anew."""
    from ossdx.ui import kb_page

    kb_page._calibration.clear()
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return evaluation.evaluate(*args, **kwargs)

    monkeypatch.setattr(kb_page, "evaluate", counted)
    at = run(AppTest.from_file(APP, default_timeout=60))
    at.switch_page(KB_PAGE)
    run(at)
    assert calls == []
    open_calibration(at)
    assert len(calls) == 1
    at.button_group(key="kb_section").set_value("Graph")
    open_calibration(run(at))
    other = run(AppTest.from_file(APP, default_timeout=60))
    other.switch_page(KB_PAGE)
    open_calibration(run(other))
    assert len(calls) == 1
    manifest = small_kb / "kb.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    open_calibration(run(other))
    assert len(calls) == 2


def test_the_calibration_section_shows_the_track_record_of_held_out_cases(small_kb):
    """Above the tuning sets' diagram, the section shows the measured track record band by
    band (cases, right, share, interval) as stored, and names the set it was measured on."""
    from ossdx.advice.track_record import load_track_record, wilson_interval

    record = load_track_record(small_kb)
    assert record is not None
    at = run(AppTest.from_file(APP, default_timeout=60))
    at.switch_page(KB_PAGE)
    open_calibration(run(at))
    tables = [e.value for e in at.markdown if e.value.startswith("| Leader held at |")]
    assert len(tables) == 1
    lines = tables[0].splitlines()[2:]
    assert len(lines) == len(record.bands)
    for line, band in zip(lines, record.bands, strict=True):
        low, high = wilson_interval(band.right, band.n)
        assert line == (f"| {band.label()} | {band.n} | {band.right} | "
                        f"{band.right / band.n:.0%} | {low:.0%} to {high:.0%} |")
    captions = re.sub(r"\\(.)", r"\1", "\n".join(str(c.value) for c in at.caption))
    assert f"on {record.n} published cases held out from the knowledge ({record.source})" \
        in captions
    short = record.short_list
    assert short is not None
    assert (f"Short list: the leader and every diagnosis at {short.threshold:.1%} or more"
            in captions)
    assert f"it held it in {short.covered} of {short.n}." in captions
