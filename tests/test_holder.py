"""Live editing: the holder reloads an edited KB, keeps the last good one through a bad edit,
exposes the errors, and recovers when the edit is fixed."""

from __future__ import annotations

from pathlib import Path

from ossdx.core.errors import Severity
from ossdx.kb.holder import KnowledgeBaseHolder

RULE = "alpha.lytic"
FILE = "diagnoses/alpha.yaml"


def edit(root: Path, old: str, new: str) -> None:
    """Save an edit of the mini KB's alpha file (each edit here changes the file's size)."""
    path = root / FILE
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_first_call_loads_the_kb(kb_copy):
    """A fresh holder loads the folder once and serves it without errors."""
    holder = KnowledgeBaseHolder(kb_copy())
    kb = holder.current()
    assert kb is not None and holder.errors == () and holder.generation == 1
    assert holder.current() is kb  # nothing changed: the same object, no reload
    assert holder.generation == 1


def test_a_valid_edit_is_picked_up(kb_copy):
    """Saving a valid change reloads: the new KB has the edited rule."""
    root = kb_copy()
    holder = KnowledgeBaseHolder(root)
    assert holder.current().rule(RULE).lr == 2  # weak
    edit(root, "    effect: for\n    strength: weak", "    effect: for\n    strength: strong")
    kb = holder.current()
    assert kb.rule(RULE).lr == 10
    assert holder.generation == 2 and holder.errors == ()


def test_an_invalid_edit_keeps_the_last_good_kb_and_shows_the_errors(kb_copy):
    """A broken edit leaves the last good KB in service and exposes the error with its line."""
    root = kb_copy()
    holder = KnowledgeBaseHolder(root)
    good = holder.current()
    edit(root, "when: {density: lytic}", "when: {density: lytik}")
    served = holder.current()
    assert served is good
    assert holder.generation == 1
    assert holder.errors
    assert all(p.severity is Severity.ERROR for p in holder.errors)
    problem = holder.errors[0]
    assert (problem.location.file, problem.location.line) == (f"{root.name}/{FILE}", 23)
    assert "'lytik' is not a value of 'density'" in problem.message


def test_fixing_the_edit_recovers(kb_copy):
    """After a bad edit, saving a fix clears the errors and serves the fixed KB."""
    root = kb_copy()
    holder = KnowledgeBaseHolder(root)
    holder.current()
    edit(root, "when: {density: lytic}", "when: {density: lytik}")
    holder.current()
    assert holder.errors
    edit(root, "when: {density: lytik}", "when: {density: [lytic, sclerotic]}")
    kb = holder.current()
    assert holder.errors == ()
    assert holder.generation == 2
    assert kb.rule(RULE).when[0][0].values == frozenset({"lytic", "sclerotic"})


def test_a_kb_that_was_never_good_serves_nothing_but_its_errors(kb_copy):
    """When the folder has errors from the start, there is no KB, only the errors."""
    root = kb_copy()
    edit(root, "id: alpha.lytic", "id: beta.lytic")
    holder = KnowledgeBaseHolder(root)
    assert holder.current() is None
    assert any("must start with 'alpha.'" in p.message for p in holder.errors)
    edit(root, "id: beta.lytic", "id: alpha.lytic_fixed")
    assert holder.current() is not None
    assert holder.errors == () and holder.generation == 1


def test_a_new_file_is_picked_up(kb_copy):
    """Adding a file (a new case or a new diagnosis) is a change too."""
    root = kb_copy()
    holder = KnowledgeBaseHolder(root)
    holder.current()
    (root / "diagnoses" / "gamma.yaml").write_text(
        "id: gamma\nname: Gamma\ngroup: benign\ndescription: A third one.\n"
        "prior: {base: 0.1, references: [ref_a]}\nrules:\n"
        "  - id: gamma.rib\n    description: Rib favours gamma.\n    when: {region: rib}\n"
        "    effect: for\n    strength: weak\n    references: [ref_a]\n")
    kb = holder.current()
    assert "gamma" in kb.diagnoses and holder.generation == 2
