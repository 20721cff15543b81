"""Who is using the app: a signed-in person when sign-in is configured, else a typed name.

**Sign-in** is Streamlit's OpenID Connect sign-in (``st.login`` / ``st.user``), configured in
``.streamlit/secrets.toml`` under ``[auth]`` (docs/DEPLOY.md). Then a trainee is the
*subject* of their identity token (``oidc:<issuer>|<subject>``): nobody else can present
it, so each trainee reads and writes only their own progress. The **educator** role, which
sees the whole cohort, is given by the ``[ossdx]`` section of the same file::

    [ossdx]
    educators = ["teacher@hospital.example"]      # e-mails (case-insensitive, verified)
    educator_groups = ["radiology-educators"]     # or groups, from the token's groups claim
    groups_claim = "groups"                       # the claim that lists them (default)
    cohort = ["trainee1@hospital.example"]        # optional: who should start, by e-mail

**Without sign-in** (a laptop), a trainee types any name. That is labelled for what it is:
anyone who types the same name reads and adds to that name's progress. ``ossdx app`` then
listens on 127.0.0.1 only.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from ossdx.core.errors import InputError
from ossdx.core.records import FREE_TEXT, Trainee
from ossdx.teaching.storage import ProgressStore, clean_name, signed_in_identity

from .boundary import callback
from .text import problem_lines, safe

LEARNER = "learner.name"  # the typed name, shared by the learning pages (no widget owns it)
NO_SIGN_IN = ("Not signed in: names are free text. Anyone who types a name sees and adds to "
              "that name's progress. Use a nickname; never enter patient details.")
SIGN_IN_EXTRA = "pip install 'ossdx[signin]'"


# ------------------------------------------------------------------ configuration
def _secrets_section(name: str) -> Mapping[str, Any]:
    """A section of .streamlit/secrets.toml ({} when there is none)."""
    try:
        value = st.secrets.get(name)
    except FileNotFoundError:  # no secrets file, or one that cannot be read (see problem())
        return {}
    return value if isinstance(value, Mapping) else {}


def configuration_problem() -> str | None:
    """Why sign-in cannot work as configured (None when it is off or fine)."""
    try:
        auth = st.secrets.get("auth")
    except FileNotFoundError:
        files = [Path(p).expanduser() for p in st.get_option("secrets.files") or []]
        broken = [str(p) for p in files if p.is_file()]
        return (f"{broken[0]} cannot be read, so sign-in is off and progress is not saved: "
                f"check its TOML") if broken else None
    if not auth:
        return None
    if importlib.util.find_spec("authlib") is None:
        return f"sign-in is configured but its library (Authlib) is missing: {SIGN_IN_EXTRA}"
    return None


def sign_in_configured() -> bool:
    """Whether ``[auth]`` is configured in .streamlit/secrets.toml."""
    return bool(_secrets_section("auth"))


def providers() -> list[str | None]:
    """The sign-in providers: None for the one of ``[auth]`` itself, else the names of its
    ``[auth.NAME]`` sections."""
    auth = _secrets_section("auth")
    if "client_id" in auth:
        return [None]
    return [name for name, value in auth.items() if isinstance(value, Mapping)]


def settings() -> Mapping[str, Any]:
    """The ``[ossdx]`` section: educators, educator groups, the groups claim, the cohort."""
    return _secrets_section("ossdx")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


def is_educator(claims: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    """Whether a signed-in person has the educator role: a verified e-mail in ``educators``
    (an unverified one, ``email_verified = false``, never counts), or a group of theirs in
    ``educator_groups``."""
    email = claims.get("email")
    emails = {e.casefold() for e in _strings(config.get("educators"))}
    if isinstance(email, str) and email.casefold() in emails \
            and claims.get("email_verified") is not False:
        return True
    groups = set(_strings(claims.get(str(config.get("groups_claim") or "groups"))))
    return bool(groups & set(_strings(config.get("educator_groups"))))


def cohort_roster() -> list[str]:
    """The e-mails of the trainees expected to take part (``[ossdx] cohort``)."""
    return _strings(settings().get("cohort"))


# ------------------------------------------------------------------ who is here
@dataclass(frozen=True)
class Learner:
    """The person whose progress a page reads and writes."""

    name: str  # shown
    identity: str  # name:<typed name> or oidc:<issuer>|<subject>
    signed_in: bool
    issuer: str = ""
    subject: str = ""
    email: str | None = None
    educator: bool = False

    def find(self, store: ProgressStore) -> Trainee | None:
        """Their trainee row, if they have one."""
        return store.trainee_by_identity(self.identity)

    def ensure(self, store: ProgressStore) -> Trainee:
        """Their trainee row, added if new (for saving)."""
        if self.signed_in:
            return store.signed_in_trainee(self.issuer, self.subject, self.name, self.email)
        return store.trainee(self.name)


def signed_in_user() -> Learner | None:
    """The signed-in person (None when sign-in is off or nobody signed in)."""
    if not sign_in_configured() or not st.user.get("is_logged_in"):
        return None
    claims = st.user.to_dict()
    subject = str(claims.get("sub") or "")
    issuer = str(claims.get("iss") or "")
    given = claims.get("email")
    email = given if isinstance(given, str) and given else None
    name = str(claims.get("name") or email or subject)
    try:
        identity = signed_in_identity(issuer, subject)
    except ValueError:  # no subject: not someone progress can be kept for
        return None
    return Learner(name=name, identity=identity, signed_in=True, issuer=issuer,
                   subject=subject, email=email, educator=is_educator(claims, settings()))


@callback
def _name_changed(key: str) -> None:
    st.session_state[LEARNER] = str(st.session_state.get(key) or "").strip()


def _sign_in_buttons(key: str) -> None:
    for provider in providers():
        label = "Sign in" if provider is None else f"Sign in with {provider}"
        if st.button(label, key=f"{key}.{provider or 'default'}", icon=":material/login:",
                     type="primary"):
            st.login() if provider is None else st.login(provider)


def learner_panel(page: str) -> Learner | None:
    """Who is learning, for a learning page: the signed-in person, or (without sign-in) the
    typed name. Shows the sign-in button or the name box; None until someone is known."""
    problem = configuration_problem()
    if problem:
        st.error(safe(problem, line_start=False))
        return None
    if sign_in_configured():
        user = signed_in_user()
        if user is None:
            st.info("Sign in to save your progress; only you will see it.",
                    icon=":material/lock:")
            _sign_in_buttons(f"signin.{page}")
            return None
        st.caption(f"Signed in as {safe(user.name, line_start=False)}"
                   + (f" ({safe(user.email, line_start=False)})" if user.email else ""))
        return user
    key = f"learner.name.{page}"
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(LEARNER, "")
    st.text_input("Your name (free text, not signed in)", key=key, on_change=_name_changed,
                  args=(key,), max_chars=80, placeholder="e.g. a nickname", help=NO_SIGN_IN)
    st.caption(NO_SIGN_IN)
    typed = st.session_state.get(LEARNER) or ""
    if not typed:
        return None
    try:
        name = clean_name(typed)
    except InputError as exc:
        st.error(problem_lines(exc.problems))
        return None
    return Learner(name=name, identity=FREE_TEXT + name, signed_in=False)


def sidebar() -> None:
    """The sidebar's sign-in block: who is signed in and a sign-out button, a sign-in
    button, or (without sign-in) a note that names are free text."""
    if not sign_in_configured() or configuration_problem():
        st.caption("Sign-in is not configured: trainee names are free text.")
        return
    user = signed_in_user()
    if user is None:
        _sign_in_buttons("sidebar.signin")
        return
    role = " · educator" if user.educator else ""
    st.caption(f"Signed in as **{safe(user.name, line_start=False)}**{role}")
    if st.button("Sign out", key="sidebar.signout", icon=":material/logout:", width="stretch"):
        st.logout()
