"""Sign-in in a real browser: Streamlit's OIDC sign-in against a real OpenID provider
(oidc-provider-mock, in a thread), the app started by `ossdx app` with its secrets in a
temporary file, and Debian's headless chromium.

Checks that signing in works and saves under the sign-in subject, that one trainee cannot
read another's progress, that signing out hands the browser to the next person, and that
the educator sees both trainees (the cohort page and its CSV export).
"""

from __future__ import annotations

import csv
import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import require_browser, settle
from test_storage import make_attempt

from benchmarks.appserver import free_port, serving
from ossdx.teaching.storage import ProgressStore

pytestmark = pytest.mark.browser

PEOPLE = {
    "ann": {"name": "Ann Lee", "email": "ann@example.org", "email_verified": True},
    "bob": {"name": "Bob Roy", "email": "bob@example.org", "email_verified": True},
    "teacher": {"name": "Dr Teacher", "email": "Teacher@Example.org", "email_verified": True},
}
SEEDED = {"ann": 2, "bob": 3}  # attempts already saved for each trainee


@pytest.fixture(scope="module", autouse=True)
def _browser_present() -> None:
    require_browser()


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A real OpenID Connect provider (the mock) knowing Ann, Bob and the teacher."""
    import oidc_provider_mock

    users = [oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in PEOPLE.items()]
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


class SignedInApp:
    """`ossdx app` with sign-in configured through a temporary secrets file."""

    def __init__(self, provider: str, folder: Path):
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"  # the host of redirect_uri (see NOTES)
        with urllib.request.urlopen(f"{provider}/.well-known/openid-configuration") as reply:
            self.issuer = json.load(reply)["issuer"]
        self.db = folder / "progress.sqlite3"
        secrets = folder / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "{self.url}/oauth2callback"\n'
            f'cookie_secret = "{os.urandom(16).hex()}"\n'
            'client_id = "ossdx-test"\n'
            'client_secret = "not-checked-by-the-mock"\n'
            f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
            "[ossdx]\n"
            'educators = ["teacher@example.org"]\n', encoding="utf-8")
        self.folder = folder
        self.log = folder / "app.log"
        self.env = {**os.environ, "OSSDX_DB": str(self.db), "HOME": str(folder)}
        self.env.pop("OSSDX_DATABASE_URL", None)
        self.command = [sys.executable, "-c", "import sys; from ossdx.cli import main; "
                        "sys.exit(main(sys.argv[1:]))", "app", "--server.port", str(self.port),
                        "--server.address", "127.0.0.1", "--secrets.files", str(secrets)]

    def identity(self, sub: str) -> str:
        return f"oidc:{self.issuer}|{sub}"


@pytest.fixture(scope="module")
def app(provider, tmp_path_factory) -> Iterator[SignedInApp]:
    server = SignedInApp(provider, tmp_path_factory.mktemp("signin"))
    with serving(server.command, server.port, server.log, env=server.env, cwd=server.folder,
                 timeout=60):
        store = ProgressStore(f"sqlite:///{server.db}")
        try:
            for sub, count in SEEDED.items():
                trainee = store.signed_in_trainee(server.issuer, sub, PEOPLE[sub]["name"],
                                                  str(PEOPLE[sub]["email"]))
                for n in range(count):
                    store.record_attempt(trainee, make_attempt(
                        f"seed-case-{n}", ("metastasis",), "schmorl_node", n))
        finally:
            store.close()
        yield server


def sign_in(page, app: SignedInApp, sub: str) -> None:
    """Sign in through the provider's form, as a person would."""
    page.goto(f"{app.url}/progress")
    settle(page)
    page.get_by_role("button", name="Sign in").first.click()
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app.url}/**")
    settle(page)
    page.get_by_text(f"Signed in as {PEOPLE[sub]['name']}").first.wait_for()


def open_page(page, app: SignedInApp, path: str) -> None:
    page.goto(f"{app.url}/{path}")
    settle(page)


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return box.get_by_test_id("stMetricValue").inner_text().strip()


def test_a_trainee_signs_in_and_sees_only_their_own_progress(page, app):
    """Ann signs in at the provider, sees her 2 attempts (not Bob's 3), has no name box and
    no cohort page; a quiz answer she checks is saved under her sign-in subject."""
    sign_in(page, app, "ann")
    open_page(page, app, "progress")
    assert metric(page, "Attempts") == str(SEEDED["ann"])
    assert page.get_by_label("Your name").count() == 0
    assert page.get_by_test_id("stSidebarNav").get_by_text("Cohort").count() == 0
    open_page(page, app, "cohort")
    assert page.get_by_role("heading", name="Cohort").count() == 0

    open_page(page, app, "quiz")
    question = page.locator("[class*='st-key-quiz_q']").filter(
        has_text="Skeletal-related events (SREs)")
    question.get_by_text("D. Bone pain").click()
    settle(page)
    question.get_by_role("button", name="Check").click()
    settle(page)
    page.get_by_text("Right: you picked D. Bone pain").wait_for()
    store = ProgressStore(f"sqlite:///{app.db}")
    try:
        ann = store.trainee_by_identity(app.identity("ann"))
        assert ann is not None and ann.email == "ann@example.org"
        assert [(q.question_id, q.correct) for q in store.quiz_answers(ann)] == \
            [("kb:seed.quiz.sre", True)]
    finally:
        store.close()


def test_after_signing_out_the_next_person_sees_only_theirs(page, app):
    """Ann signs out in a shared browser; Bob signs in there and sees his 3 attempts."""
    sign_in(page, app, "ann")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()  # the provider's confirmation
    page.wait_for_url(f"{app.url}/**")
    page.get_by_role("button", name="Sign in").first.wait_for()
    assert page.get_by_text("Signed in as Ann Lee").count() == 0
    sign_in(page, app, "bob")
    open_page(page, app, "progress")
    assert metric(page, "Attempts") == str(SEEDED["bob"])


def test_the_educator_sees_both_trainees(page, app, tmp_path):
    """The teacher (an educator by e-mail, written in another case) has the cohort page: both
    trainees are counted and both are in the exported CSV with their attempts."""
    sign_in(page, app, "teacher")
    page.get_by_test_id("stSidebarNav").get_by_text("Cohort").wait_for()
    open_page(page, app, "cohort")
    page.get_by_role("heading", name="Cohort").wait_for()
    assert metric(page, "Attempts") == str(sum(SEEDED.values()))
    assert int(metric(page, "Started")) >= 2
    with page.expect_download() as download:
        page.get_by_role("button", name="Trainees (CSV)").click()
    saved = tmp_path / "trainees.csv"
    download.value.save_as(saved)
    rows = {r["trainee"]: r for r in csv.DictReader(saved.open(encoding="utf-8"))}
    assert rows["Ann Lee"]["attempts"] == str(SEEDED["ann"])
    assert rows["Bob Roy"]["attempts"] == str(SEEDED["bob"])
    assert rows["Ann Lee"]["email"] == "ann@example.org"
