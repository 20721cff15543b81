"""Check plain data against a pydantic model and say what is wrong in the user's terms.

pydantic reports errors by path; this module maps each path back to the line of the YAML
document and rewrites the message as "what was expected, what was found" with a suggestion.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ossdx.core.errors import Problem, allowed, did_you_mean
from ossdx.core.loader import Document, PathKey

M = TypeVar("M", bound=BaseModel)


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the mapping at ``loc`` (best effort, for key lists)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        current = _inner_model(fields[part].annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return repr(value)


def _name(loc: tuple[Any, ...]) -> str:
    """What a message calls the value at ``loc``, quoted: ``'basis'``, or ``item 9 of
    'profile'`` for a list item (counted from 1, as a reader counts)."""
    if not loc:
        return "the file"
    if isinstance(loc[-1], int):
        owner = f" of '{loc[-2]}'" if len(loc) > 1 else ""
        return f"item {loc[-1] + 1}{owner}"
    return f"'{loc[-1]}'"


def _form(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """' (write [low, high])' for a field whose description gives its written form."""
    owner = _model_at(model, loc[:-1])
    found = owner.model_fields.get(str(loc[-1])) if owner is not None and loc else None
    return f" (write {found.description})" if found is not None and found.description else ""


def _choices(expected: str) -> list[str]:
    """The quoted choices of pydantic's "'a', 'b' or 'c'"."""
    return re.findall(r"'([^']*)'", expected)


def _key_message(error: Any, loc: tuple[Any, ...]) -> tuple[str, str]:
    """A mapping key that is not text (``1: x``, or ``{1: 0.5}`` where words are keys)."""
    key = error.get("input")
    where = f" in '{loc[-1]}'" if loc and not isinstance(loc[-1], int) else ""
    return (f"the key {key!r}{where} is a number, but keys here are words; put it in quotes "
            f"('\"{key}\"') if it is meant as text", "type")


def _sized(kind: str, field: str, ctx: dict[str, Any], form: str) -> tuple[str, str] | None:
    """Messages for a value that is too long or too short (text or list)."""
    if kind == "string_too_long":
        return f"{field} is too long (at most {ctx.get('max_length')} characters)", "too-long"
    if kind == "too_long":
        return (f"{field} has {ctx.get('actual_length')} item(s); it takes at most "
                f"{ctx.get('max_length')}{form}", "too-long")
    if kind == "too_short" and ctx.get("min_length", 1) > 1:
        return (f"{field} has {ctx.get('actual_length')} item(s); it needs at least "
                f"{ctx.get('min_length')}{form}", "empty")
    if kind in ("string_too_short", "too_short"):
        return f"{field} must not be empty", "empty"
    return None


def _message(error: Any, model: type[BaseModel], loc: tuple[Any, ...],
             key_error: bool = False) -> tuple[str, str]:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    field = _name(loc)
    if key_error or kind == "invalid_key":
        return _key_message(error, loc[:-1])
    if kind == "missing" and len(loc) > 1 and isinstance(loc[-1], int):
        return (f"'{loc[-2]}' has too few items: item {loc[-1] + 1} is missing"
                f"{_form(model, loc[:-1])}", "missing-key")
    sized = _sized(kind, field, ctx, _form(model, loc))
    if sized is not None:
        return sized
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        # the keys as a file writes them: a field's alias ('for') rather than its name
        keys = [f.alias or name for name, f in owner.model_fields.items()] if owner else []
        # the key as written (a key holding '[' is dropped from loc, which reads it as
        # pydantic's own union tag)
        key = str(error["loc"][-1]) if error.get("loc") else ""
        return (f"unknown key '{key}'{did_you_mean(key, keys)}"
                + (f"; {allowed(keys, 20)}" if keys else ""), "unknown-key")
    if kind == "missing":
        return f"missing required key '{loc[-1] if loc else ''}'", "missing-key"
    if kind == "literal_error":
        choices = _choices(ctx.get("expected", ""))
        return (f"{field} is {_describe(value)}{did_you_mean(value, choices)}; "
                f"{allowed(choices)}", "bad-value")
    if kind == "string_type":
        hint = " (put it in quotes)" if isinstance(value, (int, float)) else ""
        return f"{field} must be text, got {_describe(value)}{hint}", "type"
    if kind == "string_pattern_mismatch":
        return (f"{field} is {_describe(value)}, which does not match the required form "
                f"{ctx.get('pattern')!r}", "bad-id")
    if kind in ("list_type", "tuple_type"):
        return f"{field} must be a list, got {_describe(value)}{_form(model, loc)}", "type"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{field} must be a mapping, got {_describe(value)}", "type"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{field} must be a whole number, got {_describe(value)}", "type"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"{field} must be a number, got {_describe(value)}", "type"
    if kind in ("bool_type", "bool_parsing"):
        return f"{field} must be yes or no, got {_describe(value)}", "type"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {"greater_than": "> ", "greater_than_equal": ">= ", "less_than": "< ",
                 "less_than_equal": "<= "}[kind]
        limit = next(iter(ctx.values()), "?")
        return f"{field} is {_describe(value)}; it must be {bound}{limit}", "out-of-range"
    return f"{field}: {error.get('msg', 'invalid')}", "invalid"


def validate_model(doc: Document, model: type[M], data: Any = None,
                   path: PathKey = ()) -> tuple[M | None, list[Problem]]:
    """Validate ``data`` (default: the whole document) against ``model``."""
    data = doc.data if data is None and not path else data
    if not isinstance(data, dict):
        what = "empty" if data is None else f"{_describe(data)}, not a mapping"
        keys = ", ".join(model.model_fields)
        return None, [doc.problem(path, f"expected a mapping with keys such as {keys}; "
                                        f"the content is {what}", "not-a-mapping")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        seen: set[tuple[Any, ...]] = set()
        for error in exc.errors():
            key_error = error["loc"][-1:] == ("[key]",)
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
            if loc in seen:  # unions report one error per branch: keep the first
                continue
            seen.add(loc)
            message, code = _message(error, model, loc, key_error)
            problems.append(doc.problem((*path, *loc), message, code))
        return None, problems
