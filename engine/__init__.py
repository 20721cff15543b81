"""ossdx: differential diagnosis of bone lesions in breast cancer, explained.

Typical use::

    from engine import load_knowledge_base, Reasoner, load_case
    kb = load_knowledge_base()
    differential = Reasoner(kb).diagnose(load_case("case.yaml", kb))

The package is pure: it never imports a user interface.
"""

__version__ = "0.1.0"

from .cases import Case, load_case, make_case
from .diagnosis import Differential, Reasoner
from .errors import InputError, KnowledgeBaseError, OssdxError, Problem
from .kb import KnowledgeBase, load_knowledge_base

__all__ = [
    "Case",
    "Differential",
    "InputError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "OssdxError",
    "Problem",
    "Reasoner",
    "__version__",
    "load_case",
    "load_knowledge_base",
    "make_case",
]
