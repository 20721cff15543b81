"""The one place where ossdx imports experta.

experta 1.9.4 (the latest release) pins ``frozendict==1.2``, whose ``frozendict`` class
subclasses ``collections.Mapping``. That alias was removed in Python 3.10, so a plain
``pip install experta`` followed by ``import experta`` fails with
``AttributeError: module 'collections' has no attribute 'Mapping'`` (nilp0inter/experta
issue 34; the fix on its master branch was never released).

We keep the pinned packages (so ``pip install`` and ``pip check`` stay clean) and restore
the alias, which is the same object the old name pointed to, for the duration of the
import only: frozendict reads it once, to define its class, so it is removed again
afterwards and the rest of the process sees the standard library unchanged.

experta also calls ``logging.basicConfig()`` at import time, which would attach a handler to
the root logger of whatever program imports us. We give the root logger a placeholder handler
for the duration of the import so that call is a no-op, then remove it.

Every other module imports experta names from here, never from ``experta`` directly.
"""

from __future__ import annotations

import collections
import collections.abc
import logging

_added_alias = not hasattr(collections, "Mapping")
if _added_alias:
    collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]

_root = logging.getLogger()
_placeholder = logging.NullHandler()
_had_handlers = bool(_root.handlers)
if not _had_handlers:
    _root.addHandler(_placeholder)
try:
    from experta import (
        AND,
        NOT,
        OR,
        Fact,
        KnowledgeEngine,
        L,
        P,
        Rule,
        W,
    )
    from experta import __version__ as experta_version
    from experta.abstract import Strategy
    from experta.matchers.rete import ReteMatcher
finally:
    if not _had_handlers:
        _root.removeHandler(_placeholder)
    if _added_alias:
        del collections.Mapping  # type: ignore[attr-defined]

__all__ = [
    "AND",
    "NOT",
    "OR",
    "Fact",
    "KnowledgeEngine",
    "L",
    "P",
    "ReteMatcher",
    "Rule",
    "Strategy",
    "W",
    "experta_version",
]
