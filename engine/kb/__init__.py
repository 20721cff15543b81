"""The knowledge base: load, check and hold the YAML knowledge as typed, frozen objects."""

from ossdx.kb.build import check_knowledge_base, default_kb_path, load_knowledge_base
from ossdx.kb.model import Atom, Kind, KnowledgeBase, Op, Rule, Vocabulary

__all__ = [
    "Atom",
    "Kind",
    "KnowledgeBase",
    "Op",
    "Rule",
    "Vocabulary",
    "check_knowledge_base",
    "default_kb_path",
    "load_knowledge_base",
]
