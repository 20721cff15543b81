"""Advice on a case: the next question, why-not, mimic contrast, the work-up, reports and
exports. Imports ``core``, ``kb`` and ``reasoning``."""
