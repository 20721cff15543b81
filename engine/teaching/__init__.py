"""Trainee mode: unknown-case attempts and feedback, quizzes, and the progress store.
Imports the layers below it; the store itself needs only ``core``."""
