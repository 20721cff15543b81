"""``ossdx typical``: each diagnosis ranked on the picture its own profile calls typical.

The pictures are built from the compiled profiles, never from a case; a picture is one a
reader could meet (every finding would be asked of it); and the verdict follows the
knowledge: a diagnosis whose base rate is made negligible stops leading on its picture, and
one made common leads.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from ossdx.authoring.typical import check_typical, typical_picture
from ossdx.cli.main import main
from ossdx.kb import load_knowledge_base

from conftest import KB_DIR


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def with_base(kb_copy, diagnosis: str, base: float) -> Path:
    """A copy of the shipped knowledge base with one diagnosis's base rate replaced."""
    root = kb_copy(KB_DIR, name=f"kb-{diagnosis}-{base:g}")
    path = root / "diagnoses" / f"{diagnosis}.yaml"
    text, count = re.subn(r"(?m)^  base: [0-9.e-]+$", f"  base: {base}", path.read_text(),
                          count=1)
    assert count == 1
    path.write_text(text)
    return root


def test_each_picture_is_telling_and_could_be_met(kb):
    """Every finding of a picture is a value its diagnosis's profile makes likelier than the
    reference mix, would be asked given the rest of the picture, and there are at most K."""
    for signs in (3, 5):
        for dx in kb.profiles:
            picture = typical_picture(kb, dx, signs)
            assert 0 < len(picture) <= signs, dx
            for finding, value in picture.items():
                assert kb.is_relevant(finding, picture), (dx, finding)
                if isinstance(value, str) and finding in kb.profiles[dx]:
                    told = kb.profiles[dx][finding][value] > kb.reference[finding][value]
                    # an answer entered only because another finding's ask_when needs it
                    # may be neutral; the others are telling
                    needed_by_other = any(atom.var == finding for f in picture
                                          for conjunction in kb.relevance.get(f, ())
                                          for atom in conjunction)
                    assert told or needed_by_other, (dx, finding, value)


def test_the_verdict_follows_the_base_rate(kb_copy):
    """Haemangioma with a negligible base rate cannot lead on three signs (each ratio is at
    most settings.lr_limits' 50), and with a very common one it leads."""
    rare = load_knowledge_base(with_base(kb_copy, "hemangioma", 1e-12))
    (result,) = check_typical(rare, 3, ["hemangioma"])
    assert not result.leads and result.leader != "hemangioma"
    common = load_knowledge_base(with_base(kb_copy, "hemangioma", 0.9))
    (result,) = check_typical(common, 3, ["hemangioma"])
    assert result.leads and result.leader == "hemangioma"


def test_the_command_reports_every_described_diagnosis(kb):
    """Text and JSON name each described diagnosis once, and the JSON count of leaders
    agrees with its entries; the command is advisory (exit 0)."""
    code, text = run("typical", "--signs", "3")
    assert code == 0
    for dx in kb.profiles:
        assert re.search(rf"(?m)^{dx}: (leads|ranks \d+)", text), dx
    code, text = run("typical", "--signs", "3", "--json")
    data = json.loads(text)
    assert [d["diagnosis"] for d in data["diagnoses"]] == sorted(kb.profiles)
    assert data["leading"] == sum(d["rank"] == 1 for d in data["diagnoses"])


def test_a_patient_context_is_used(kb):
    """A known lymphoma (a prior factor of lymphoma's) raises lymphoma's probability on its
    own picture; the command takes the context as FIELD=VALUE options and reports it."""
    (plain,) = check_typical(kb, 3, ["lymphoma"])
    (known,) = check_typical(kb, 3, ["lymphoma"], {"other_cancer": "lymphoma"})
    assert known.picture == plain.picture
    assert known.probability > plain.probability
    code, text = run("typical", "--signs", "3", "--diagnosis", "lymphoma", "--json",
                     "--patient", "other_cancer=lymphoma", "--patient", "age=70")
    data = json.loads(text)
    assert code == 0 and data["patient"] == {"other_cancer": "lymphoma", "age": 70}
    assert data["diagnoses"][0]["probability"] > round(plain.probability, 4)


def test_a_one_study_picture_holds_only_what_that_study_shows(kb):
    """With --modality, every finding of a picture needs no modality or one the studies
    show (PET/CT includes CT); a bone scan's picture of a haemangioma holds no MRI or CT
    sign although its full picture does (fat on T1, coarse trabeculae). The command says
    which studies it used."""
    full = typical_picture(kb, "hemangioma", 5)
    assert any(kb.vocabulary.findings[f].needs and "bone_scan" not in
               kb.vocabulary.findings[f].needs for f in full)
    for modalities in ({"bone_scan"}, {"XR"}, {"PET_CT"}):
        shown = kb.vocabulary.expand_modalities(frozenset(modalities))
        for dx in kb.profiles:
            picture = typical_picture(kb, dx, 5, frozenset(modalities))
            for finding in picture:
                needs = kb.vocabulary.findings[finding].needs
                assert not needs or shown & set(needs), (modalities, dx, finding)
    ct = typical_picture(kb, "bone_island", 5, frozenset({"PET_CT"}))
    assert "ct_attenuation_hu" in ct  # PET/CT gives a CT
    code, text = run("typical", "--diagnosis", "hemangioma", "--modality", "bone_scan",
                     "--json")
    data = json.loads(text)
    assert code == 0 and data["modalities"] == ["bone_scan"]
    assert data["diagnoses"][0]["picture"] == typical_picture(
        kb, "hemangioma", 5, frozenset({"bone_scan"}))
    code, text = run("typical", "--diagnosis", "hemangioma", "--modality", "XR")
    assert "only what XR can show" in text


@pytest.mark.parametrize("argv, words", [
    (["typical", "--modality", "MRT"], ["--modality", "did you mean 'MRI'"]),
    (["typical", "--diagnosis", "hemangiona"], ["--diagnosis", "did you mean 'hemangioma'"]),
    (["typical", "--signs", "0"], ["--signs", "give 1 or more"]),
    (["typical", "--patient", "primery=none"], ["--patient", "did you mean 'primary'"]),
    (["typical", "--patient", "primary"], ["--patient", "is not FIELD=VALUE"]),
])
def test_bad_options_are_clear_errors(argv, words, capsys):
    code, _ = run(*argv)
    assert code == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err
