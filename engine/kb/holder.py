"""Keep serving the last good knowledge base while its files are edited.

``KnowledgeBaseHolder.current()`` reloads the KB when any file under it changed (by
modification time and size), and when the edited KB has errors it keeps the last good one
and exposes the errors, so an educator's typo never takes the app down.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ossdx.core.errors import Problem, Severity
from ossdx.kb.build import check_knowledge_base, default_kb_path
from ossdx.kb.model import KnowledgeBase


def snapshot(root: Path) -> tuple[tuple[str, int, int], ...]:
    """A cheap signature of the folder: (path, mtime_ns, size) of every YAML file."""
    items = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith((".yaml", ".yml")):
                path = os.path.join(dirpath, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                items.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(items))


@dataclass
class KnowledgeBaseHolder:
    """The current good knowledge base of a folder, and the errors of a bad edit."""

    root: Path = field(default_factory=default_kb_path)
    kb: KnowledgeBase | None = None
    errors: tuple[Problem, ...] = ()
    generation: int = 0
    _signature: tuple[tuple[str, int, int], ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def current(self) -> KnowledgeBase | None:
        """The last good KB (reloading first if the files changed); None if never good."""
        with self._lock:
            signature = snapshot(self.root)
            if signature != self._signature or (self.kb is None and not self.errors):
                self._signature = signature
                kb, problems = check_knowledge_base(self.root)
                errors = tuple(p for p in problems if p.severity is Severity.ERROR)
                if kb is not None and not errors:
                    if self.kb is None or kb.fingerprint != self.kb.fingerprint:
                        self.generation += 1
                    self.kb, self.errors = kb, ()
                else:
                    self.errors = errors or tuple(problems)
            return self.kb
