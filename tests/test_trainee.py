"""Trainee scoring, feedback and progress summaries: known inputs give hand-computed results."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest

from ossdx.core.errors import InputError
from ossdx.reasoning.cases import load_case
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.teaching.trainee import (
    Answer,
    Attempt,
    accuracy_by_diagnosis,
    case_code,
    cases_to_retry,
    check_answer,
    confusions,
    difficulty_of,
    give_feedback,
    mask_names,
    running_totals,
    score_answer,
    totals,
)

from conftest import KB_DIR, MINI_KB, SEED_CASES

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def attempt(case_id: str, choices: tuple[str, ...], confidence: float, truth: str,
            minutes: int = 0, acceptable: tuple[str, ...] = ()) -> Attempt:
    answer = Answer(choices, confidence)
    return Attempt(case_id, "1.0.0+test", choices, confidence, truth, truth,
                   score_answer(answer, truth, acceptable), T0 + timedelta(minutes=minutes))


# ------------------------------------------------------------------ scoring maths
def test_a_wrong_first_choice_scores_by_hand():
    """Metastasis then Schmorl at 70% on a Schmorl case: top-3 hit, Brier 0.49, log ln 0.3."""
    score = score_answer(Answer(("metastasis", "schmorl_node"), 0.7), "schmorl_node")
    assert (score.top1, score.top3, score.rank) == (False, True, 2)
    assert score.brier == pytest.approx(0.49)  # (0.7 - 0)^2
    assert score.log_score == pytest.approx(-1.2039728043)  # ln(0.3)


def test_a_right_first_choice_scores_by_hand():
    """Schmorl first at 80% on a Schmorl case: Brier 0.04, log score ln 0.8."""
    score = score_answer(Answer(("schmorl_node",), 0.8), "schmorl_node")
    assert (score.top1, score.top3, score.rank) == (True, True, 1)
    assert score.brier == pytest.approx(0.04)  # (0.8 - 1)^2
    assert score.log_score == pytest.approx(-0.2231435513)  # ln(0.8)


def test_a_miss_everywhere_scores_by_hand():
    """A truth in none of three choices at 30%: no hit, Brier 0.09, log score ln 0.7."""
    score = score_answer(Answer(("hemangioma", "paget", "red_marrow"), 0.3), "metastasis")
    assert (score.top1, score.top3, score.rank) == (False, False, None)
    assert score.brier == pytest.approx(0.09)
    assert score.log_score == pytest.approx(math.log(0.7))


def test_an_acceptable_answer_counts_as_right():
    """A case's 'acceptable' answer in first place is a top-1 hit."""
    score = score_answer(Answer(("insufficiency_fracture",), 0.6), "osteoporotic_fracture",
                         acceptable=("insufficiency_fracture",))
    assert score.top1 and score.brier == pytest.approx(0.16)


def test_stating_the_true_belief_scores_best_on_average():
    """Both scores are proper: with a 60% hit rate, saying 60% beats saying 90% or 30%."""
    def expected(p: float, rate: float = 0.6) -> tuple[float, float]:
        hit = score_answer(Answer(("a",), p), "a")
        miss = score_answer(Answer(("a",), p), "b")
        return (rate * hit.brier + (1 - rate) * miss.brier,
                rate * hit.log_score + (1 - rate) * miss.log_score)

    honest = expected(0.6)
    for other in (0.3, 0.9):
        brier, log = expected(other)
        assert honest[0] < brier and honest[1] > log


def test_totals_and_running_totals_by_hand():
    """Two attempts (a miss at 70%, a hit at 80%): top-1 50%, Brier 0.265, log -0.7136."""
    items = [attempt("a", ("metastasis", "schmorl_node"), 0.7, "schmorl_node"),
             attempt("b", ("schmorl_node",), 0.8, "schmorl_node", minutes=5)]
    summary = totals(items)
    assert summary is not None
    assert (summary.attempts, summary.top1, summary.top3) == (2, 0.5, 1.0)
    assert summary.brier == pytest.approx((0.49 + 0.04) / 2)
    assert summary.log_score == pytest.approx((math.log(0.3) + math.log(0.8)) / 2)
    assert summary.calibration_gap == pytest.approx(0.75 - 0.5)
    running = running_totals(items)
    assert [r.top1 for r in running] == [0.0, 0.5]
    assert running[0].brier == pytest.approx(0.49)
    assert totals([]) is None


@pytest.mark.parametrize("choices, confidence, message", [
    ([None, None, None], 0.5, "choose at least a first diagnosis"),
    (["metastasis", "metastasis"], 0.5, "repeated: metastasis"),
    (["metastasis", "metastsis"], 0.5, "did you mean 'metastasis'"),
    (["metastasis"], 1.0, "confidence must be a probability from 0.01 to 0.99"),
    (["metastasis"], 0.0, "confidence must be a probability"),
])
def test_a_bad_answer_is_refused_with_a_message(kb, choices, confidence, message):
    """Empty, repeated or unknown choices and certainty (0 or 1) are refused, saying why."""
    with pytest.raises(InputError) as error:
        check_answer(kb, choices, confidence)
    assert message in str(error.value)


def test_blank_choices_are_skipped(kb):
    """A blank second choice is skipped: the answer keeps the order of what was chosen."""
    answer = check_answer(kb, ["metastasis", None, "hemangioma"], 0.4)
    assert answer == Answer(("metastasis", "hemangioma"), 0.4)


# ------------------------------------------------------------------ feedback from the trace
def test_feedback_names_the_rules_and_findings_that_pointed_elsewhere(mini_kb):
    """Answering Beta on the mini alpha case: the breach speaks against Beta and for Alpha."""
    case = load_case(MINI_KB / "cases" / "alpha-case.yaml", mini_kb)
    differential = Reasoner(mini_kb).diagnose(case)
    feedback = give_feedback(differential, Answer(("beta",), 0.6), "alpha")
    assert feedback.missed and feedback.truth_rank == 1
    (wrong,) = feedback.wrong
    assert wrong.diagnosis == "beta"
    assert [r.rule for r in wrong.against] == ["beta.aggressive"]
    assert sorted(r.rule for r in wrong.truth_for) == ["alpha.aggressive", "alpha.lytic"]
    assert {(u.variable, u.value) for u in wrong.findings} == {
        ("cortical_breach", "yes"), ("density", "lytic")}


def test_feedback_on_a_right_answer_lists_no_wrong_choice(kb, reasoner):
    """When the first choice is the truth, nothing is listed as wrong."""
    case = load_case(KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml", kb)
    feedback = give_feedback(reasoner.diagnose(case), Answer(("schmorl_node",), 0.9),
                             "schmorl_node")
    assert not feedback.missed and feedback.wrong == ()
    assert all(kb.rule(r.rule).target == "schmorl_node" and r.lr > 1
               for r in feedback.truth_for)


# ------------------------------------------------------------------ progress
def test_accuracy_by_diagnosis_weakest_first():
    """Per true diagnosis: Schmorl 1 of 2 right, metastasis 0 of 1: metastasis listed first."""
    items = [attempt("a", ("metastasis",), 0.7, "schmorl_node"),
             attempt("b", ("schmorl_node",), 0.7, "schmorl_node", 1),
             attempt("c", ("hemangioma", "metastasis"), 0.5, "metastasis", 2)]
    rows = accuracy_by_diagnosis(items)
    assert [(r.diagnosis, r.attempts, r.top1, r.top3) for r in rows] == [
        ("metastasis", 1, 0.0, 1.0), ("schmorl_node", 2, 0.5, 0.5)]


def test_confusions_count_truth_and_answer_pairs(kb):
    """Two Schmorl cases called metastasis and one hemangioma called Paget, commonest first."""
    items = [attempt("a", ("metastasis",), 0.7, "schmorl_node"),
             attempt("b", ("metastasis",), 0.7, "schmorl_node", 1),
             attempt("c", ("paget",), 0.5, "hemangioma", 2),
             attempt("d", ("hemangioma",), 0.5, "hemangioma", 3)]
    rows = confusions(kb, items)
    assert [(c.truth, c.answer, c.count) for c in rows] == [
        ("schmorl_node", "metastasis", 2), ("hemangioma", "paget", 1)]
    assert rows[0].declared_mimic is True  # schmorl_node.yaml: mimics: [metastasis]
    assert rows[1].declared_mimic is False


def test_cases_to_retry_are_those_whose_latest_attempt_missed():
    """A case missed then solved is not listed; cases whose last try missed are, latest first."""
    items = [attempt("a", ("metastasis",), 0.7, "schmorl_node", 0),
             attempt("a", ("schmorl_node",), 0.7, "schmorl_node", 10),
             attempt("b", ("paget",), 0.7, "hemangioma", 5),
             attempt("c", ("paget",), 0.7, "hemangioma", 20)]
    assert cases_to_retry(items) == ["c", "b"]


# ------------------------------------------------------------------ unknown cases
def test_difficulty_comes_from_the_first_line(tmp_path):
    """'# ... Difficulty: hard.' on line 1 gives hard; no tag (as in seed cases) gives typical."""
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text("# Vignette. Difficulty: hard. From a source.\nfindings: {}\n")
    untagged = tmp_path / "untagged.yaml"
    untagged.write_text("findings: {}\n# Difficulty: hard\n")
    assert difficulty_of(tagged) == "hard"
    assert difficulty_of(untagged) == "typical"
    assert {difficulty_of(p) for p in SEED_CASES} == {"typical"}


def test_literature_difficulties_match_the_readme():
    """The literature README's table says 32 typical and 69 hard vignettes."""
    folder = KB_DIR / "cases" / "literature"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    total = re.search(r"\*\*total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\*", readme)
    assert total is not None
    found = [difficulty_of(p) for p in sorted(folder.glob("*.yaml"))]
    assert (found.count("typical"), found.count("hard")) == (int(total[2]), int(total[3]))


def test_case_codes_are_stable_and_tell_nothing():
    """A case's code is six hex digits that do not contain its id, the same every time."""
    code = case_code("seed-schmorl-l4")
    assert re.fullmatch(r"[0-9a-f]{6}", code) and code == case_code("seed-schmorl-l4")
    assert code != case_code("seed-schmorl-l5")


def test_mask_names_blanks_the_answer_in_a_narrative():
    """The proven diagnosis's name is blanked wherever it appears, in any case."""
    text = "Biopsy: SCHMORL'S NODE. Not a metastasis."
    assert mask_names(text, ["Schmorl's node"]) == "Biopsy: […]. Not a metastasis."
