"""Reasoning: case files, the rule compiler (experta), inference, scoring and explanation.
Imports only ``core`` and ``kb``."""
