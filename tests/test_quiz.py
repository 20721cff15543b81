"""Quizzes: the KB's own questions, and questions generated from the rules of a small KB."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ossdx.kb import load_knowledge_base
from ossdx.teaching.quiz import (
    BLANK,
    answer_question,
    generate_questions,
    kb_questions,
    make_quiz,
    modality_questions,
)


def by_id(questions):
    return {q.id: q for q in questions}


def option_texts(question) -> set[str]:
    return {text for _, text in question.options}


def test_the_seed_quizzes_come_as_written(kb):
    """Both quick quizzes of the exhibit are offered with their options, answer and source."""
    questions = by_id(kb_questions(kb))
    pattern = questions["kb:seed.quiz.destruction_pattern"]
    assert pattern.answer == "D" and pattern.answer_text == "All of the above"
    assert [k for k, _ in pattern.options] == ["A", "B", "C", "D"]  # order kept
    sre = questions["kb:seed.quiz.sre"]
    assert sre.answer_text == "Bone pain" and sre.references == ("seed",)


def test_a_quiz_starts_with_the_kb_quizzes_and_mixes_generated_kinds(kb):
    """A quiz of 8: the two seed quizzes first, then generated questions of several kinds."""
    questions = make_quiz(kb, seed=1, size=8)
    assert len(questions) == 8
    assert [q.kind for q in questions[:2]] == ["kb", "kb"]
    assert {q.kind for q in questions[2:]} >= {"separates", "favours", "modality"}
    assert len({q.id for q in questions}) == 8


def test_favour_questions_from_the_mini_kb(mini_kb):
    """Mini KB: sclerotic favours Beta (×5), a breached cortex favours Alpha (×10)."""
    questions = by_id(generate_questions(mini_kb, seed=0))
    sclerotic = questions["favours:density=sclerotic"]
    assert sclerotic.answer_text == "Beta" and option_texts(sclerotic) == {"Alpha", "Beta"}
    assert "×5" in sclerotic.explanation
    assert sclerotic.reasons == ("Beta ×5: Sclerotic favours beta. [rule beta.sclerotic]",)
    assert sclerotic.references == ("ref_a",)
    breach = questions["favours:cortical_breach=yes"]
    assert breach.answer_text == "Alpha" and "×10" in breach.explanation
    # a sign that moves nothing (region, size) gives no question
    assert not [q for q in questions if q.startswith(("favours:region", "favours:size"))]


def test_separation_question_from_a_declared_mimic_pair(kb_copy):
    """Mini KB with Alpha declared a mimic of Beta: the breached cortex separates them best.

    Breach: Alpha ×10 against Beta ×0.1 (ratio 100); T1 bright: Alpha ×0.125 against Beta ×10
    (ratio 80); sclerotic: ratio 5. The wrong options tip the balance less than twofold.
    """
    root = kb_copy()
    path = root / "diagnoses" / "alpha.yaml"
    path.write_text(path.read_text().replace("group: malignant\n",
                                             "group: malignant\nmimics: [beta]\n"))
    kb = load_knowledge_base(root)
    (question,) = [q for q in generate_questions(kb, seed=0) if q.kind == "separates"]
    assert question.question == "Which sign best separates Alpha from Beta?"
    assert question.answer_text == "Cortical breach: Breached"
    wrong = option_texts(question) - {question.answer_text}
    assert len(wrong) == 3
    assert {t.split(":")[0] for t in wrong} == {"Region", "T1 signal", "Size"}
    assert "100 times more in favour of Alpha" in question.explanation
    assert [r.rsplit("[rule ", 1)[1] for r in question.reasons] == [
        "alpha.aggressive]", "beta.aggressive]"]


def test_modality_question_from_a_pitfall_of_the_mini_kb(kb_copy):
    """A pitfall needing MRI gives 'which study?', with MRI blanked out of the title."""
    root = kb_copy()
    (root / "pitfalls").mkdir()
    (root / "pitfalls" / "imaging.yaml").write_text(
        "pitfalls:\n"
        "  - id: mri_misses\n"
        "    title: MRI can miss a breached cortex\n"
        "    text: Cortical detail is better on CT than on MRI.\n"
        "    when: {modality: MRI}\n"
        "    references: [ref_b]\n")
    kb = load_knowledge_base(root)
    (question,) = modality_questions(kb, seed=0)
    assert question.question == (f"Which imaging study is this pitfall about? "
                                 f"“{BLANK} can miss a breached cortex”")
    assert question.answer_text == "MRI"
    assert option_texts(question) == {"MRI", "Radiograph", "CT"}
    assert question.references == ("ref_b",)
    assert "Cortical detail is better on CT than on MRI." in question.explanation


def test_modality_questions_never_name_their_answer(kb):
    """In the shipped KB every 'which study?' question hides the answer's name and id."""
    questions = modality_questions(kb)
    assert len(questions) >= 4
    for question in questions:
        modality = next(m for m, spec in kb.vocabulary.modalities.items()
                        if spec.name == question.answer_text)
        words = {modality.replace("_", " ").lower(), question.answer_text.lower()}
        text = re.sub(r"[_-]", " ", question.question.lower())
        assert not any(w in text for w in words), question.question


def test_the_same_seed_gives_the_same_quiz(kb):
    """Generation is deterministic for a seed; other seeds reorder options or questions."""
    first = make_quiz(kb, seed=7, size=12)
    assert first == make_quiz(kb, seed=7, size=12)
    assert any(make_quiz(kb, seed=s, size=12) != first for s in range(8, 12))


def test_every_generated_answer_is_one_of_its_options_and_cites_a_known_source(kb):
    """Each generated question has 2-4 distinct options, its answer among them, known refs."""
    for question in generate_questions(kb, seed=3):
        texts = [t for _, t in question.options]
        assert 2 <= len(texts) <= 4 and len(set(texts)) == len(texts), question.id
        assert question.answer in dict(question.options), question.id
        assert question.references and set(question.references) <= set(kb.references)


def test_an_answer_record_says_whether_it_was_right(kb):
    """Choosing the right key records correct=True; another key records False."""
    question = by_id(kb_questions(kb))["kb:seed.quiz.sre"]
    now = datetime.now(UTC)
    assert answer_question(question, "D", kb.version, now).correct
    wrong = answer_question(question, "A", kb.version, now)
    assert not wrong.correct and wrong.answer == "D" and wrong.kind == "kb"
