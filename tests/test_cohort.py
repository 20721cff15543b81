"""Who sees what: the educator role, a signed-in trainee's own progress, and the educator's
cohort page (AppTest, with ``st.user`` as a sign-in would set it), plus the cohort figures
and their CSV exports against hand-counted data."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from apptest import APP, run
from streamlit.testing.v1 import AppTest
from test_storage import make_attempt

from ossdx.core.records import Trainee
from ossdx.teaching.cohort import (
    accuracy_by_case,
    accuracy_by_mimic_pair,
    attempts_csv,
    not_started,
    summary_csv,
    wrong_calls,
)
from ossdx.teaching.storage import ProgressStore
from ossdx.ui.auth import is_educator

from conftest import ROOT

COHORT_PAGE = str(ROOT / "ui" / "screens" / "cohort.py")
ISSUER = "https://idp.example"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "ossdx", "client_secret": "not-checked",
        "server_metadata_url": "http://localhost:9/.well-known/openid-configuration"}
SETTINGS = {"educators": ["Teacher@Example.org"], "cohort": ["dan@example.org",
                                                             "ann@example.org"]}


def user(sub: str, name: str, email: str) -> dict[str, object]:
    """What st.user holds after a sign-in (the identity token's claims)."""
    return {"is_logged_in": True, "iss": ISSUER, "sub": sub, "name": name, "email": email,
            "email_verified": True}


ANN = user("ann-sub", "Ann Lee", "ann@example.org")
BOB = user("bob-sub", "Bob Roy", "bob@example.org")
TEACHER = user("teacher-sub", "Dr Teacher", "teacher@example.org")


# ------------------------------------------------------------------ the educator role
def test_the_educator_role_comes_from_verified_emails_or_groups():
    """A listed e-mail (any case) makes an educator unless the provider says it is not
    verified; so does a listed group, read from the configured claim."""
    config = {"educators": ["Teacher@Example.org"], "educator_groups": ["rad-edu"],
              "groups_claim": "roles"}
    assert is_educator({"email": "teacher@example.org"}, config)
    assert not is_educator({"email": "teacher@example.org", "email_verified": False}, config)
    assert not is_educator({"email": "ann@example.org"}, config)
    assert is_educator({"email": "x@y", "roles": ["staff", "rad-edu"]}, config)
    assert is_educator({"roles": "rad-edu"}, config)
    assert not is_educator({"groups": ["rad-edu"]}, config)  # another claim than configured
    assert not is_educator({"email": "teacher@example.org"}, {})


# ------------------------------------------------------------------ cohort figures
def cohort_data() -> list[tuple[Trainee, list]]:
    ann = Trainee(1, "Ann Lee", f"oidc:{ISSUER}|ann", "ann@example.org")
    bob = Trainee(2, "=cmd|' /C calc'!A0", "name:=cmd|' /C calc'!A0")  # a hostile typed name
    cara = Trainee(3, "Cara", f"oidc:{ISSUER}|cara", "cara@example.org")
    return [
        (ann, [make_attempt("seed-schmorl", ("metastasis",), "schmorl_node", 0),
               make_attempt("seed-schmorl", ("schmorl_node",), "schmorl_node", 5),
               make_attempt("seed-hemangioma", ("hemangioma",), "hemangioma", 9)]),
        (bob, [make_attempt("seed-schmorl", ("metastasis", "schmorl_node"), "schmorl_node", 1)]),
        (cara, []),
    ]


def test_cohort_figures_by_case_pair_and_wrong_call(kb):
    """Hand-counted: the Schmorl case 1 of 3 right by 2 trainees, hemangioma 1 of 1; the
    metastasis/Schmorl pair 1 of 3 right, called the other twice; the commonest wrong call
    is Schmorl's node as metastasis, 2 times by 2 trainees."""
    data = cohort_data()
    by_case = {r.case_id: r for r in accuracy_by_case(data)}
    assert (by_case["seed-schmorl"].attempts, by_case["seed-schmorl"].trainees) == (3, 2)
    assert by_case["seed-schmorl"].top1 == pytest.approx(1 / 3)
    assert by_case["seed-schmorl"].top3 == pytest.approx(2 / 3)  # one listed only metastasis
    assert by_case["seed-hemangioma"].top1 == 1.0
    assert accuracy_by_case(data)[0].case_id == "seed-schmorl"  # hardest first
    pairs = {(r.first, r.second): r for r in accuracy_by_mimic_pair(kb, data)}
    schmorl = pairs[("metastasis", "schmorl_node")]
    assert (schmorl.attempts, schmorl.trainees, schmorl.confused) == (3, 2, 2)
    assert schmorl.top1 == pytest.approx(1 / 3)
    first = wrong_calls(kb, data)[0]
    assert (first.truth, first.answer, first.count, first.trainees, first.declared_mimic) == \
        ("schmorl_node", "metastasis", 2, 2, True)


def test_not_started_lists_idle_trainees_and_roster_emails_never_seen():
    """Cara signed in but has no attempt; dan@ is on the roster and never signed in; ann@
    is on the roster and has started (matched without regard to case)."""
    waiting = not_started(cohort_data(), ["DAN@example.org", "Ann@Example.org", " "])
    assert [(w.name, w.known) for w in waiting] == [("Cara", True), ("DAN@example.org", False)]
    assert waiting[1].label() == "DAN@example.org (never signed in)"


def test_csv_exports_hold_every_attempt_and_cannot_run_formulas():
    """The attempts CSV has one row per attempt with its choices and scores; the trainees
    CSV has each trainee and each roster e-mail never seen; a name that a spreadsheet would
    run as a formula is written as text."""
    data = cohort_data()
    rows = list(csv.DictReader(io.StringIO(attempts_csv(data))))
    assert len(rows) == 4
    assert [r["trainee"] for r in rows[:3]] == ["Ann Lee"] * 3
    assert rows[3]["trainee"] == "'=cmd|' /C calc'!A0"
    assert (rows[0]["choice_1"], rows[0]["top1"], rows[3]["choice_2"]) == \
        ("metastasis", "0", "schmorl_node")
    assert rows[0]["identity"] == "signed in" and rows[3]["identity"] == "free-text name"
    people = list(csv.DictReader(io.StringIO(summary_csv(data, ["dan@example.org"]))))
    assert [(p["trainee"], p["attempts"]) for p in people] == [
        ("Ann Lee", "3"), ("'=cmd|' /C calc'!A0", "1"), ("Cara", "0"),
        ("dan@example.org", "0")]
    assert people[0]["top1"] == "0.667" and people[3]["identity"] == "never signed in"


# ------------------------------------------------------------------ the app, signed in
@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    """The app's progress database (SQLite under tmp_path) with Ann, Bob and a free-text
    'Ann Lee', each with attempts, and Cara signed in without one."""
    path = tmp_path / "progress.sqlite3"
    monkeypatch.delenv("OSSDX_DATABASE_URL", raising=False)
    monkeypatch.setenv("OSSDX_DB", str(path))
    store = ProgressStore(f"sqlite:///{path}")
    try:
        ann = store.signed_in_trainee(ISSUER, "ann-sub", "Ann Lee", "ann@example.org")
        bob = store.signed_in_trainee(ISSUER, "bob-sub", "Bob Roy", "bob@example.org")
        store.signed_in_trainee(ISSUER, "cara-sub", "Cara", "cara@example.org")
        typed = store.trainee("Ann Lee")  # someone who typed Ann's name on a laptop
        for n in range(2):
            store.record_attempt(ann, make_attempt(f"seed-schmorl-l4-{n}", ("metastasis",),
                                                   "schmorl_node", n))
        store.record_attempt(bob, make_attempt("seed-schmorl-l4-0", ("schmorl_node",),
                                               "schmorl_node", 3))
        for n in range(5):
            store.record_attempt(typed, make_attempt("x", ("paget",), "paget", n))
    finally:
        store.close()
    return path


def signed_in_app(claims: dict[str, object], script: str = APP) -> AppTest:
    at = AppTest.from_file(script, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["ossdx"] = SETTINGS
    at.user = claims
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: str(m.value) for m in at.metric}


def test_a_signed_in_trainee_sees_only_their_own_progress(db):
    """Signed in, Ann's progress page shows her 2 attempts (not Bob's, nor those of someone
    who typed her name), with no name box to type another name into; Bob sees his 1."""
    at = run(signed_in_app(ANN))
    at.switch_page("ui/screens/progress.py")
    run(at)
    assert metrics(at)["Attempts"] == "2"
    assert not at.text_input  # no way to ask for someone else's progress
    assert any("Signed in as Ann Lee (ann@example.org)" in c.value for c in at.caption)
    bob = run(signed_in_app(BOB))
    bob.switch_page("ui/screens/progress.py")
    run(bob)
    assert metrics(bob)["Attempts"] == "1" and metrics(bob)["Top-1"] == "100%"


def test_signed_out_the_learning_pages_offer_sign_in_and_save_nothing(db):
    """With sign-in configured and nobody signed in: a sign-in button, no name box, and the
    commit button stays disabled."""
    at = run(signed_in_app({"is_logged_in": False}))
    at.switch_page("ui/screens/trainee.py")
    run(at)
    assert [b.label for b in at.button if b.label == "Sign in"]
    assert not at.text_input
    at.selectbox(key="trainee.pick").set_value("seed/seed-schmorl-l4.yaml")
    run(at)
    at.selectbox(key="trainee.choice.1").set_value("metastasis")
    run(at)
    assert at.button(key="trainee.commit").disabled


def test_a_trainee_gets_no_cohort_page(db):
    """The cohort page is not in a trainee's navigation, and run directly it refuses."""
    at = run(signed_in_app(ANN))
    with pytest.raises(ValueError, match=r"not a registered page|Could not find"):
        at.switch_page("ui/screens/cohort.py")
    page = run(signed_in_app(ANN, COHORT_PAGE))
    assert any("for educators" in w.value for w in page.warning)
    assert not page.dataframe and not page.metric


def test_without_sign_in_the_cohort_page_explains_what_is_needed(db):
    """No sign-in configured: the cohort page says it needs sign-in and shows nobody."""
    page = run(AppTest.from_file(COHORT_PAGE, default_timeout=60))
    assert any("needs sign-in" in i.value for i in page.info)
    assert not page.dataframe and not page.metric


def test_the_educator_sees_the_whole_cohort(kb, db):
    """An educator (by e-mail, whatever its case) gets the cohort page: 4 trainees, 3 started,
    8 attempts; the by-case table, the wrong call Schmorl's node -> metastasis by Ann; Cara
    and the roster's dan@ as not started; both CSV exports offered."""
    at = run(signed_in_app(TEACHER))
    at.switch_page("ui/screens/cohort.py")
    run(at)
    assert metrics(at) == {"Trainees": "4", "Started": "3", "Attempts": "8", "Top-1": "75%"}
    tables = {d.value.columns[0]: d.value for d in at.dataframe}
    by_case = tables["Case"]
    assert sorted(by_case["Attempts"]) == [1, 2, 5]  # l4-0 by Ann and Bob, l4-1, x
    trainees = tables["Trainee"]
    assert sorted(zip(trainees["Trainee"], trainees["Attempts"], strict=True)) == [
        ("Ann Lee", 2), ("Ann Lee", 5), ("Bob Roy", 1)]
    text = "\n".join(str(m.value) for m in at.markdown).replace("\\", "")  # unescaped
    schmorl, metastasis = kb.diagnoses["schmorl_node"].name, kb.diagnoses["metastasis"].name
    assert f"**{schmorl}** called **{metastasis}**: 2× (1 trainee)" in text
    assert "Cara <cara@example.org>" in text
    assert "dan@example.org (never signed in)" in text
    assert {b.label for b in at.get("download_button")} == {"Attempts (CSV)",
                                                            "Trainees (CSV)"}
