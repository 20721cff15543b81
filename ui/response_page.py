"""Treatment response page: lesions at baseline and follow-up, graded by MDA, WHO and UICC.

Load a response file (one click for each of the seed exhibit's post-treatment cases, a
choice of every case in ``knowledge_base/response_cases``, or an upload), or enter the
lesions by hand; the page shows the three criteria sets side by side with the rules that
decided each category, the category of every lesion, and the caveats. The form offers the
findings that some response rule reads, so a loaded case and its form give the same result.

Every widget key starts with ``response_``. Knowledge-base and user text goes through
:func:`ui.text.safe` (never raw HTML).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from ossdx.core.errors import InputError, Problem
from ossdx.core.loader import Document, dump_yaml, parse_bytes, read_document
from ossdx.kb import KnowledgeBase
from ossdx.kb.schema import Variable
from ossdx.response.assess import (
    CASES_FOLDER,
    SIZE,
    SIZE_CHANGE,
    Assessment,
    ResponseAssessor,
    build_assessor,
)
from ossdx.response.assess import WEEKS as WEEKS_FINDING
from ossdx.response.criteria import ResponseCriteria
from ossdx.response.files import (
    MAX_BYTES,
    ResponseCase,
    check_response_document,
    make_response_case,
)
from ossdx.ui.resources import knowledge_base_holder
from ossdx.ui.text import code, problem_lines, safe

logger = logging.getLogger("ossdx.ui")

P = "response_"
WEEKS = f"{P}weeks"
BASELINE_MODS = f"{P}baseline_modalities"
FOLLOWUP_MODS = f"{P}followup_modalities"
LESION_COUNT = f"{P}lesion_count"
NEW_COUNT = f"{P}new_count"
META = f"{P}meta"  # id, title, narrative, source, patient, treatment, truth of a loaded file
ORIGIN = f"{P}origin"
LOAD_ERRORS = f"{P}load_errors"
SAVED = f"{P}saved_form"  # a copy of the form, restored after a visit to another page
CHOICE = f"{P}case_choice"  # the case picker: the response case on screen, if any
MAX_FORM_LESIONS = 20
META_KEYS = ("id", "title", "narrative", "source", "patient", "treatment", "truth")
NOT_GIVEN = ""


# --------------------------------------------------------------------------- resources
def _stamp(kb_root: Path) -> str:
    folder = kb_root / "response"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return ";".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in files)


@st.cache_resource(show_spinner="Compiling the response criteria…", max_entries=4)
def _assessor(root: str, fingerprint: str, stamp: str, _kb: KnowledgeBase) -> ResponseAssessor:
    """The compiled response criteria of one knowledge-base version."""
    return build_assessor(_kb)


def _context(kb_root: Path) -> tuple[KnowledgeBase, ResponseAssessor] | None:
    kb = knowledge_base_holder(str(kb_root)).current()
    if kb is None:
        st.error("No valid knowledge base to grade response with.")
        return None
    try:
        return kb, _assessor(str(kb_root), kb.fingerprint, _stamp(kb_root), kb)
    except InputError as exc:
        st.error("**The response criteria have problems**  \n" + problem_lines(exc.problems))
        return None


# --------------------------------------------------------------------------- form model
def _entry_findings(criteria: ResponseCriteria) -> list[str]:
    """The per-lesion findings the form offers: those some response rule reads, and size."""
    read = criteria.rule_variables() | {SIZE}
    return [f for f in criteria.findings if f in read]


def _modality_options(kb: KnowledgeBase) -> list[str]:
    return [m for m, spec in kb.vocabulary.modalities.items() if spec.bone_imaging == "yes"]


def _shows(kb: KnowledgeBase, spec: Variable, modalities: list[str] | set[str]) -> bool:
    if not spec.needs:
        return bool(modalities)
    return bool(kb.vocabulary.expand_modalities(frozenset(modalities)) & set(spec.needs))


def _lesion_key(i: int, when: str, finding: str) -> str:
    return f"{P}lesion_{i}_{when}_{finding}"


def _new_key(j: int, finding: str) -> str:
    return f"{P}new_{j}_{finding}"


def _clear_form() -> None:
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith((f"{P}lesion_", f"{P}new_")):
            del st.session_state[key]


def _fill_form(case: ResponseCase, data: dict[str, Any], origin: str,
               kb: KnowledgeBase, criteria: ResponseCriteria) -> None:
    """Put a checked response case into the form's widgets (inside a callback)."""
    entry = set(_entry_findings(criteria))
    options = set(_modality_options(kb))
    ss = st.session_state
    _clear_form()
    ss[WEEKS] = case.weeks_since_treatment_start
    ss[BASELINE_MODS] = [m for m in _modality_options(kb) if m in case.baseline_modalities]
    ss[FOLLOWUP_MODS] = [m for m in _modality_options(kb) if m in case.followup_modalities]
    lesions = case.lesions[:MAX_FORM_LESIONS]
    ss[LESION_COUNT] = len(lesions)
    for i, lesion in enumerate(lesions):
        ss[f"{P}lesion_{i}_site"] = lesion.site
        for when, findings in (("baseline", lesion.baseline), ("followup", lesion.followup)):
            for finding, value in findings.items():
                if finding in entry:
                    ss[_lesion_key(i, when, finding)] = value
    news = [n for n in case.new_lesions if n.modality in options][:MAX_FORM_LESIONS]
    ss[NEW_COUNT] = len(news)
    for j, new in enumerate(news):
        ss[_new_key(j, "site")] = new.site
        ss[_new_key(j, "modality")] = new.modality
        ss[_new_key(j, "adjacent_to")] = new.adjacent_to or NOT_GIVEN
        for finding, value in new.findings.items():
            if finding in entry:
                ss[_new_key(j, finding)] = value
    ss[META] = {k: data[k] for k in META_KEYS if k in data}
    ss[ORIGIN] = origin
    dropped = len(case.lesions) - len(lesions)
    if dropped:
        ss[LOAD_ERRORS] = [f"the form holds {MAX_FORM_LESIONS} lesions; {dropped} were left out"]


def _load(doc: Document, kb: KnowledgeBase, criteria: ResponseCriteria) -> None:
    try:
        case = check_response_document(doc, kb, criteria)
    except InputError as exc:
        st.session_state[LOAD_ERRORS] = [str(p) for p in exc.problems]
        return
    _fill_form(case, doc.data, doc.name, kb, criteria)


def _load_file(path: Path, kb: KnowledgeBase, criteria: ResponseCriteria,
               title: str | None = None) -> None:
    """Load a response file; the case picker then shows ``title`` (the file's entry)."""
    st.session_state[CHOICE] = title
    try:
        _load(read_document(path, max_bytes=MAX_BYTES, name=path.name), kb, criteria)
    except InputError as exc:
        st.session_state[LOAD_ERRORS] = [str(p) for p in exc.problems]
    except Exception:  # a callback must never raise into Streamlit
        logger.exception("loading %s failed", path)
        st.session_state[LOAD_ERRORS] = ["the file could not be loaded; see the server log"]


def _load_choice(cases: dict[str, Path], kb: KnowledgeBase, criteria: ResponseCriteria) -> None:
    chosen = st.session_state.get(CHOICE)
    if chosen in cases:
        _load_file(cases[chosen], kb, criteria, chosen)


def _load_upload(kb: KnowledgeBase, criteria: ResponseCriteria) -> None:
    upload = st.session_state.get(f"{P}upload")
    if upload is None:
        return
    st.session_state[CHOICE] = None  # the picker no longer names the case on screen
    try:
        _load(parse_bytes(upload.getvalue(), upload.name, MAX_BYTES), kb, criteria)
    except InputError as exc:
        st.session_state[LOAD_ERRORS] = [str(p) for p in exc.problems]
    except Exception:
        logger.exception("reading the upload failed")
        st.session_state[LOAD_ERRORS] = ["the file could not be read; see the server log"]


def _form_keys() -> list[str]:
    fixed = (WEEKS, BASELINE_MODS, FOLLOWUP_MODS, LESION_COUNT, NEW_COUNT, CHOICE)
    return [k for k in list(st.session_state)
            if isinstance(k, str) and (k in fixed or k.startswith((f"{P}lesion_", f"{P}new_")))]


def _save_form() -> None:
    """Keep the form's values: Streamlit forgets a widget's value when its page is left."""
    st.session_state[SAVED] = {k: st.session_state[k] for k in _form_keys()}


def _restore_form() -> bool:
    saved = st.session_state.get(SAVED)
    if not saved:
        return False
    for key, value in saved.items():
        st.session_state[key] = value
    return True


def _new_form() -> None:
    _clear_form()
    ss = st.session_state
    ss[CHOICE] = None
    ss[WEEKS] = None
    ss[BASELINE_MODS] = []
    ss[FOLLOWUP_MODS] = []
    ss[LESION_COUNT] = 1
    ss[NEW_COUNT] = 0
    ss[META] = {}
    ss[ORIGIN] = None


# --------------------------------------------------------------------------- widgets
def _choice(spec: Variable, key: str, label: str) -> None:
    options = [NOT_GIVEN, *spec.values]
    st.session_state.setdefault(key, NOT_GIVEN)
    if st.session_state[key] not in options:
        st.session_state[key] = NOT_GIVEN
    st.selectbox(label, options, key=key,
                 format_func=lambda v: "not assessed" if v == NOT_GIVEN
                 else spec.values[v].label, help=spec.help)


def _number(spec: Variable, key: str, label: str) -> None:
    low, high = spec.range or (0.0, 1e9)
    st.session_state.setdefault(key, None)
    st.number_input(f"{label} ({spec.unit})" if spec.unit else label, min_value=float(low),
                    max_value=float(high), value=None, step=1.0, key=key, help=spec.help)


def _finding_widget(spec: Variable, key: str) -> None:
    if spec.type in ("number", "integer"):
        _number(spec, key, spec.name)
    else:
        _choice(spec, key, spec.name)


def _time_point(kb: KnowledgeBase, criteria: ResponseCriteria, i: int, when: str,
                modalities: list[str]) -> None:
    label = "Baseline" if when == "baseline" else "Follow-up"
    st.markdown(f"**{label}**")
    shown = 0
    for finding in _entry_findings(criteria):
        spec = criteria.findings[finding]
        if when == "baseline" and finding in criteria.followup_only:
            continue
        if not _shows(kb, spec, modalities):
            continue
        _finding_widget(spec, _lesion_key(i, when, finding))
        shown += 1
    if not shown:
        st.caption("Choose the modalities of this study first.")


def _lesion_form(kb: KnowledgeBase, criteria: ResponseCriteria) -> None:
    ss = st.session_state
    ss.setdefault(LESION_COUNT, 1)
    st.number_input("Known lesions", min_value=1, max_value=MAX_FORM_LESIONS, step=1,
                    key=LESION_COUNT)
    for i in range(int(ss[LESION_COUNT])):
        site_key = f"{P}lesion_{i}_site"
        ss.setdefault(site_key, f"lesion {i + 1}")
        with st.expander(f"Lesion {i + 1}: {safe(ss[site_key], line_start=False)}",
                         expanded=i < 3):
            st.text_input("Site", key=site_key, max_chars=200)
            left, right = st.columns(2)
            with left:
                _time_point(kb, criteria, i, "baseline", ss.get(BASELINE_MODS, []))
            with right:
                _time_point(kb, criteria, i, "followup", ss.get(FOLLOWUP_MODS, []))


def _new_lesion_form(kb: KnowledgeBase, criteria: ResponseCriteria) -> None:
    ss = st.session_state
    ss.setdefault(NEW_COUNT, 0)
    st.number_input("New lesions at follow-up", min_value=0, max_value=MAX_FORM_LESIONS,
                    step=1, key=NEW_COUNT)
    followup = list(ss.get(FOLLOWUP_MODS, []))
    sites = [ss.get(f"{P}lesion_{i}_site", "") for i in range(int(ss.get(LESION_COUNT, 1)))]
    for j in range(int(ss[NEW_COUNT])):
        with st.expander(f"New lesion {j + 1}", expanded=True):
            ss.setdefault(_new_key(j, "site"), f"new lesion {j + 1}")
            st.text_input("Site", key=_new_key(j, "site"), max_chars=200)
            if not followup:
                st.caption("Choose the follow-up modalities first.")
                continue
            mod_key = _new_key(j, "modality")
            if ss.get(mod_key) not in followup:
                ss[mod_key] = followup[0]
            st.selectbox("Seen on", followup, key=mod_key,
                         format_func=lambda m: kb.vocabulary.modalities[m].name)
            adj_key = _new_key(j, "adjacent_to")
            options = [NOT_GIVEN, *[s for s in sites if s]]
            if ss.get(adj_key, NOT_GIVEN) not in options:
                ss[adj_key] = NOT_GIVEN
            st.selectbox("Next to a known lesion", options, key=adj_key,
                         format_func=lambda s: "no" if s == NOT_GIVEN else s)
            for finding in _entry_findings(criteria):
                spec = criteria.findings[finding]
                if finding in criteria.followup_only or finding == SIZE:
                    continue
                if _shows(kb, spec, [ss[mod_key]]):
                    _finding_widget(spec, _new_key(j, finding))


# --------------------------------------------------------------------------- data
def _value(key: str) -> Any:
    value = st.session_state.get(key)
    return None if value in (None, NOT_GIVEN) else value


def _form_data(kb: KnowledgeBase, criteria: ResponseCriteria) -> dict[str, Any]:
    """The response-file data the form describes (what a download would contain)."""
    ss = st.session_state
    meta = dict(ss.get(META) or {})
    data: dict[str, Any] = {k: meta[k] for k in ("id", "title", "narrative", "source",
                                                  "patient", "treatment") if k in meta}
    if ss.get(WEEKS) is not None:
        data[WEEKS_FINDING] = ss[WEEKS]
    baseline, followup = list(ss.get(BASELINE_MODS, [])), list(ss.get(FOLLOWUP_MODS, []))
    data["baseline"] = {"modalities": baseline}
    data["followup"] = {"modalities": followup}
    lesions = []
    for i in range(int(ss.get(LESION_COUNT, 1))):
        lesion: dict[str, Any] = {"site": ss.get(f"{P}lesion_{i}_site", "")}
        for when, mods in (("baseline", baseline), ("followup", followup)):
            findings = {}
            for finding in _entry_findings(criteria):
                spec = criteria.findings[finding]
                if when == "baseline" and finding in criteria.followup_only:
                    continue
                value = _value(_lesion_key(i, when, finding))
                if value is not None and _shows(kb, spec, mods):
                    findings[finding] = value
            lesion[when] = findings
        lesions.append(lesion)
    data["lesions"] = lesions
    news = []
    for j in range(int(ss.get(NEW_COUNT, 0))):
        modality = _value(_new_key(j, "modality"))
        if modality is None:
            continue
        new: dict[str, Any] = {"site": ss.get(_new_key(j, "site"), ""), "modality": modality}
        if _value(_new_key(j, "adjacent_to")) is not None:
            new["adjacent_to"] = ss[_new_key(j, "adjacent_to")]
        for finding in _entry_findings(criteria):
            spec = criteria.findings[finding]
            value = _value(_new_key(j, finding))
            if (value is not None and finding not in criteria.followup_only
                    and finding != SIZE and _shows(kb, spec, [modality])):
                new[finding] = value
        news.append(new)
    data["new_lesions"] = news or "no"
    if "truth" in meta:
        data["truth"] = meta["truth"]
    return data


# --------------------------------------------------------------------------- results
def _message_lines(problems: Sequence[Problem]) -> str:
    return "  \n".join(safe(p.message) for p in problems)


def _modality_names(kb: KnowledgeBase, ids: Any) -> str:
    """Modality ids as the knowledge base names them ('bone_scan' -> 'Bone scan')."""
    modalities = kb.vocabulary.modalities
    return ", ".join(modalities[m].name if m in modalities else str(m) for m in ids)


def _show_sets(kb: KnowledgeBase, result: Assessment) -> None:
    criteria = result.criteria
    columns = st.columns(len(criteria.sets))
    for column, criteria_set in zip(columns, criteria.sets, strict=True):
        verdict = result.overall[criteria_set.id]
        with column:
            st.metric(safe(criteria_set.short_name), verdict.category,
                      help=safe(criteria_set.name))
            reads = _modality_names(kb, criteria_set.modalities)
            st.markdown(f"**{safe(criteria.category(verdict.category).name, line_start=False)}**"
                        f"  \nreads {safe(reads, line_start=False)}")
            for reason in verdict.criteria:
                where = (f" ({safe('; '.join(reason.lesions), line_start=False)})"
                         if reason.lesions else "")
                st.markdown(f"- {safe(reason.text, line_start=False)}{where}  \n"
                            f"  rule {code(reason.rule)}")


def _show_lesions(kb: KnowledgeBase, result: Assessment) -> None:
    sets = result.criteria.sets
    rows = []
    for lesion in result.lesions:
        row: dict[str, str | float | None] = {"lesion": lesion.site}
        row.update({s.short_name: lesion.verdicts[s.id].category for s in sets})
        change = lesion.features.get(SIZE_CHANGE)
        row["size change (%)"] = None if change is None else round(change, 1)
        rows.append(row)
    for new in result.new_lesions:
        row = {"lesion": f"new: {new['site']} ({_modality_names(kb, [new['modality']])})"}
        row.update({s.short_name: "counted" if s.id in new["seen_by"] else "not read"
                    for s in sets})
        rows.append(row)
    st.dataframe(rows, hide_index=True, width="stretch")


def _show_caveats(result: Assessment) -> None:
    criteria = result.criteria
    for caveat in result.caveats:
        sets = ", ".join(criteria.set(s).short_name for s in caveat.criteria)
        where = f"; {'; '.join(caveat.lesions)}" if caveat.lesions else ""
        st.warning(f"**{safe(caveat.title, line_start=False)}** "
                   f"({safe(sets + where, line_start=False)})  \n{safe(caveat.text)}")


def _show_definitions(kb: KnowledgeBase, criteria: ResponseCriteria) -> None:
    with st.expander("The criteria side by side"):
        columns = st.columns(len(criteria.sets))
        for column, criteria_set in zip(columns, criteria.sets, strict=True):
            with column:
                reads = _modality_names(kb, criteria_set.modalities)
                st.markdown(f"**{safe(criteria_set.name, line_start=False)}**  \n"
                            f"reads {safe(reads, line_start=False)}")
                for category in criteria.categories:
                    lines = criteria_set.definitions.get(category.id, ())
                    if lines:
                        st.markdown(f"*{safe(category.name, line_start=False)}*  \n"
                                    + "  \n".join(safe(line) for line in lines))
                if criteria_set.scope_note:
                    st.caption(safe(criteria_set.scope_note))


def _show_truth(result: Assessment) -> None:
    truth = result.case.truth
    if not truth:
        return
    parts = []
    for set_id, expected in truth.items():
        got = result.category(set_id)
        mark = "matches" if got == expected else f"differs (now {got})"
        parts.append(f"{result.criteria.set(set_id).short_name} {expected}: {mark}")
    st.caption(safe("Expected in the loaded file: " + "; ".join(parts)))


def warm_up(kb: KnowledgeBase) -> None:
    """Compile the response criteria and list the response cases ahead of a first visit
    (called by the app's warm-up thread)."""
    _assessor(str(kb.root), kb.fingerprint, _stamp(kb.root), kb)
    folder = kb.root / CASES_FOLDER
    if folder.is_dir():
        _case_titles(str(folder), _cases_stamp(folder))


def _cases_stamp(folder: Path) -> str:
    return ";".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in sorted(folder.glob("*.yaml")))


# --------------------------------------------------------------------------- page
@st.cache_data(show_spinner=False, max_entries=4)
def _case_titles(folder: str, stamp: str) -> dict[str, str]:
    """Title -> path of every response case in ``folder`` (re-read when a file changes)."""
    titles: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            data = read_document(path, max_bytes=MAX_BYTES).data
            title = data.get("title") if isinstance(data, dict) else None
        except InputError:
            title = None
        titles[str(title or path.stem)] = str(path)
    return titles


def _source_section(kb_root: Path, kb: KnowledgeBase, criteria: ResponseCriteria) -> None:
    folder = kb_root / CASES_FOLDER
    stamp = _cases_stamp(folder) if folder.is_dir() else ""
    titles = {t: Path(p) for t, p in _case_titles(str(folder), stamp).items()}
    seeds = [(t, p) for t, p in titles.items() if p.stem.startswith("seed-")]
    if seeds:
        st.markdown("**The seed exhibit's post-treatment cases**")
        for title, path in seeds:
            st.button(safe(title, line_start=False), key=f"{P}seed_{path.stem}",
                      on_click=_load_file, args=(path, kb, criteria, title), width="stretch",
                      wrap=True)
    left, middle, right = st.columns([3, 1, 3])
    with left:
        if st.session_state.get(CHOICE) not in titles:
            st.session_state[CHOICE] = None
        st.selectbox("Any response case", list(titles), key=CHOICE, index=None,
                     placeholder="choose a response case", format_func=lambda t: t)
    with middle:
        st.write("")
        st.button("Load", key=f"{P}load_case", on_click=_load_choice,
                  args=(titles, kb, criteria))
    with right:
        st.file_uploader("Or upload a response file (YAML)", type=["yaml", "yml"],
                         key=f"{P}upload", on_change=_load_upload, args=(kb, criteria))
    st.button("Start a new comparison", key=f"{P}new", on_click=_new_form)


def render(kb_root: Path) -> None:
    """Draw the treatment-response page for the knowledge base in ``kb_root``."""
    st.header("Treatment response of bone metastases")
    context = _context(Path(kb_root))
    if context is None:
        return
    kb, assessor = context
    criteria = assessor.criteria
    st.caption(safe(criteria.description))
    if WEEKS not in st.session_state and not _restore_form():
        _new_form()
    _source_section(Path(kb_root), kb, criteria)
    errors = st.session_state.pop(LOAD_ERRORS, None)
    if errors:
        st.error(problem_lines(errors))
    origin = st.session_state.get(ORIGIN)
    if origin:
        st.caption(safe(f"Loaded from {origin}; edit below to see what changes."))

    st.subheader("Studies")
    weeks = criteria.lesion_vocabulary.findings[WEEKS_FINDING]
    low, high = weeks.range or (0.0, 1040.0)
    st.number_input("Weeks since the start of treatment", min_value=float(low),
                    max_value=float(high), value=None, step=1.0, key=WEEKS, help=weeks.help)
    options = _modality_options(kb)
    names = {m: kb.vocabulary.modalities[m].name for m in options}
    left, right = st.columns(2)
    with left:
        st.multiselect("Baseline modalities", options, key=BASELINE_MODS,
                       format_func=names.__getitem__)
    with right:
        st.multiselect("Follow-up modalities", options, key=FOLLOWUP_MODS,
                       format_func=names.__getitem__)
    st.subheader("Lesions")
    _lesion_form(kb, criteria)
    _new_lesion_form(kb, criteria)

    _save_form()
    st.subheader("Response")
    if not st.session_state.get(BASELINE_MODS) or not st.session_state.get(FOLLOWUP_MODS):
        st.info("Choose the modalities of both studies and describe the lesions, or load a "
                "case above.")
        _show_definitions(kb, criteria)
        return
    data = _form_data(kb, criteria)
    try:
        case = make_response_case(data, kb, criteria, name="the form")
    except InputError as exc:
        st.error("**The comparison is not complete yet**  \n" + _message_lines(exc.problems))
        return
    result = assessor.assess(case)
    _show_sets(kb, result)
    _show_truth(result)
    st.markdown("**Each lesion**")
    _show_lesions(kb, result)
    if result.caveats:
        st.markdown("**Caveats**")
        _show_caveats(result)
    _show_definitions(kb, criteria)
    name = (st.session_state.get(META) or {}).get("id") or "response"
    st.download_button("Download as a response file", dump_yaml(data),
                       file_name=f"{name}.yaml", mime="application/x-yaml",
                       key=f"{P}download")
    st.caption(safe(kb.manifest.disclaimer))
