"""ossdx: differential diagnosis of bone lesions in breast cancer, explained.

Typical use::

    from ossdx import load_knowledge_base, Reasoner, load_case
    kb = load_knowledge_base()
    differential = Reasoner(kb).diagnose(load_case("case.yaml", kb))

The package is pure: it never imports a user interface. Its layers, lowest first (each
imports only the ones below it; docs/ARCHITECTURE.md has the map): ``core`` (errors, the
YAML reader, record types), ``kb`` (the knowledge base and the case model), ``reasoning``
(rule compilation, inference, scoring, explanation), ``advice`` (next question, why-not,
contrast, export), ``response``, ``teaching`` and ``authoring``, then ``cli``.

The names below are imported on first use (PEP 562), so ``import ossdx.core.errors`` does
not load the rule engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_EXPORTS = {
    "Case": "ossdx.kb.case",
    "load_case": "ossdx.reasoning.cases",
    "make_case": "ossdx.reasoning.cases",
    "Differential": "ossdx.reasoning.diagnosis",
    "Reasoner": "ossdx.reasoning.diagnosis",
    "InputError": "ossdx.core.errors",
    "KnowledgeBaseError": "ossdx.core.errors",
    "OssdxError": "ossdx.core.errors",
    "Problem": "ossdx.core.errors",
    "KnowledgeBase": "ossdx.kb.model",
    "load_knowledge_base": "ossdx.kb.build",
}

__all__ = [  # noqa: RUF022 (the names of _EXPORTS, then the version)
    "Case", "Differential", "InputError", "KnowledgeBase", "KnowledgeBaseError", "OssdxError",
    "Problem", "Reasoner", "load_case", "load_knowledge_base", "make_case", "__version__",
]

if TYPE_CHECKING:
    from ossdx.core.errors import InputError, KnowledgeBaseError, OssdxError, Problem
    from ossdx.kb.build import load_knowledge_base
    from ossdx.kb.case import Case
    from ossdx.kb.model import KnowledgeBase
    from ossdx.reasoning.cases import load_case, make_case
    from ossdx.reasoning.diagnosis import Differential, Reasoner


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ossdx' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
