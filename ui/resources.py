"""The knowledge base and its compiled engines, built once per knowledge-base version; the
progress database, opened once per URL.

A module-level :class:`~ossdx.kb.holder.KnowledgeBaseHolder` (one per folder, kept by
``st.cache_resource``) reloads the knowledge base when its files change and keeps serving the
last good version when an edit breaks it. The reasoner (experta network) and the question
advisor are cached per knowledge-base fingerprint, so no interaction recompiles them.

The progress store is shared by every session of the process (its engine keeps a pool of
connections that survives a database restart). A database that cannot be opened is not
retried on every rerun: the failure is remembered for ``RETRY_AFTER`` seconds, so an
unreachable server costs one connection timeout, not one per click.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from ossdx.advice.questions import QuestionAdvisor
from ossdx.core.errors import Problem
from ossdx.kb import KnowledgeBase, default_kb_path
from ossdx.kb.holder import KnowledgeBaseHolder, snapshot
from ossdx.reasoning.cases import CaseEntry, read_case_folder
from ossdx.reasoning.diagnosis import Reasoner
from ossdx.teaching.database import database_setting
from ossdx.teaching.storage import ProgressStore, StorageError

logger = logging.getLogger(__name__)
RETRY_AFTER = 15.0  # seconds before a database that failed to open is tried again


@dataclass(frozen=True)
class Engines:
    """The compiled engines of one knowledge-base version."""

    reasoner: Reasoner
    advisor: QuestionAdvisor


@dataclass(frozen=True)
class Context:
    """What every page needs: the current good KB, its engines, and any errors of an edit."""

    kb: KnowledgeBase
    reasoner: Reasoner
    advisor: QuestionAdvisor
    errors: tuple[Problem, ...] = ()


@st.cache_resource(show_spinner=False)
def knowledge_base_holder(root: str) -> KnowledgeBaseHolder:
    """The holder of the knowledge base in ``root`` (one per folder and process)."""
    return KnowledgeBaseHolder(Path(root))


@st.cache_resource(show_spinner="Compiling the knowledge base…", max_entries=8)
def compiled_engines(root: str, fingerprint: str, _kb: KnowledgeBase) -> Engines:
    """The reasoner and question advisor of one knowledge-base version (by fingerprint)."""
    reasoner = Reasoner(_kb)
    _ = reasoner.experta  # compile the network of record now, under the spinner
    engines = Engines(reasoner, QuestionAdvisor(reasoner))
    freeze_long_lived()
    return engines


def freeze_long_lived() -> None:
    """Move what is alive now (the knowledge base, its compiled network, the caches) out of
    the garbage collector's view, so that a collection scans only what a run allocated: a
    full collection over the compiled rules takes ~150 ms, and it would stall whichever run
    it falls in. What an earlier version left is collected once first (a KB edit, not every
    answer, pays for it)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False, max_entries=8)
def _case_entries(root: str, fingerprint: str, signature: tuple[object, ...],
                  _kb: KnowledgeBase) -> tuple[CaseEntry, ...]:
    folder = _kb.root / "cases"
    if not folder.is_dir():
        return ()
    return tuple(read_case_folder(folder, _kb,
                                  name=lambda path: path.relative_to(folder).as_posix(),
                                  keep=lambda path: not _kb.is_held_out(path)))


def case_entries(kb: KnowledgeBase) -> tuple[CaseEntry, ...]:
    """Every case file of the KB's cases folder, loaded or with its problems; named by its
    path inside that folder. Read once per state of the files (shared by all pages). The
    held-out folders of kb.yaml are left out: they stay an evaluation set."""
    return _case_entries(str(kb.root), kb.fingerprint, snapshot(kb.root / "cases"), kb)


def case_subfolder(entry: CaseEntry) -> str:
    """The first folder of an entry's name ('seed', 'literature', ...), '' at the top."""
    head, _, rest = entry.name.partition("/")
    return head if rest else ""


def kb_root() -> Path:
    """The knowledge-base folder the app serves (``$OSSDX_KB`` or the shipped one)."""
    return default_kb_path().resolve()


# What a first visit to the other pages would otherwise load while the user waits. A module
# that declares a Streamlit component must already be imported by a script run (Streamlit
# registers components only there): ui/main.py imports streamlit_cytoscape for kb_page.
WARM_MODULES = ("ossdx.ui.examples_page", "ossdx.ui.quick_entry_page", "ossdx.ui.kb_page",
                "ossdx.ui.response_page", "ossdx.ui.trainee_page", "ossdx.ui.images",
                "altair", "pandas")


WARM_UP_THREAD = "ossdx-warm-up"


class _NoContextNeeded(logging.Filter):
    """The warm-up thread calls cached functions outside any script run on purpose (it draws
    nothing); Streamlit would warn once per call that the thread has no script context."""

    def filter(self, record: logging.LogRecord) -> bool:
        return threading.current_thread().name != WARM_UP_THREAD


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
    _NoContextNeeded())


@st.cache_resource(show_spinner=False, max_entries=8)
def _warm_up(root: str, fingerprint: str, _kb: KnowledgeBase) -> threading.Thread:
    """Once per knowledge-base version, after the first page is drawn: read the case files,
    import the other pages' modules and run their ``warm_up(kb)`` in a background thread,
    so that opening a page for the first time does not wait for them."""
    def work() -> None:
        try:
            case_entries(_kb)
            for name in WARM_MODULES:  # a page module may prepare more: its warm_up(kb)
                hook = getattr(importlib.import_module(name), "warm_up", None)
                if hook is not None:
                    hook(_kb)
            freeze_long_lived()
        except Exception:  # only a head start: the page does the work itself if this fails
            logger.exception("the warm-up of the pages failed")

    thread = threading.Thread(target=work, name=WARM_UP_THREAD, daemon=True)
    thread.start()
    return thread


def warm_up() -> None:
    """Start the warm-up of the knowledge base being served (a no-op once started for its
    version; reads no file: the holder's last good version)."""
    kb = knowledge_base_holder(str(kb_root())).kb
    if kb is not None:
        _warm_up(str(kb.root), kb.fingerprint, kb)


def current_context() -> tuple[Context | None, tuple[Problem, ...]]:
    """The current context (None if the knowledge base was never valid) and its errors."""
    root = str(kb_root())
    holder = knowledge_base_holder(root)
    kb = holder.current()
    errors = tuple(holder.errors)
    if kb is None:
        return None, errors
    engines = compiled_engines(root, kb.fingerprint, kb)
    return Context(kb, engines.reasoner, engines.advisor, errors), errors


@dataclass
class Stores:
    """Open progress stores by URL, and recent failures to open one (process-wide)."""

    opened: dict[str, ProgressStore] = field(default_factory=dict)
    failed: dict[str, tuple[float, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, url: str, source: str) -> ProgressStore:
        with self.lock:
            if url in self.opened:
                return self.opened[url]
            failure = self.failed.get(url)
            if failure is not None and time.monotonic() - failure[0] < RETRY_AFTER:
                raise StorageError(failure[1])
            try:
                store = ProgressStore(url, source=source)
            except StorageError as exc:
                self.failed[url] = (time.monotonic(), str(exc))
                raise
            self.failed.pop(url, None)
            self.opened[url] = store
            return store


@st.cache_resource(show_spinner=False)
def _stores() -> Stores:
    return Stores()


def progress_store() -> ProgressStore:
    """The progress database of ``$OSSDX_DATABASE_URL`` / ``$OSSDX_DB`` (read on every run,
    opened once); raises StorageError with a one-line message when it cannot be used."""
    setting = database_setting()
    return _stores().get(setting.url, setting.source)
