"""Read YAML safely, keeping the line of every value.

This is the only module that imports ``yaml``. Every file ossdx reads (knowledge base, case
files, response files, uploads) comes through :func:`read_document`, which

* refuses files over a size cap before parsing them;
* refuses anchors and aliases before anything is constructed (an alias "billion laughs"
  bomb loads in milliseconds as shared references and then hangs whatever walks it);
* refuses tags other than YAML's plain ones (``!!python/...`` included);
* refuses nesting deeper than :data:`MAX_DEPTH` (PyYAML's composer would otherwise raise
  ``RecursionError``);
* refuses duplicate mapping keys, naming the line of the second one;
* reads YAML 1.1 booleans as the strings ``'yes'`` / ``'no'`` (``no``, ``NO``, ``off``,
  ``false`` ... all mean ``'no'``), so that bare and quoted ``yes``/``no`` mean the same;
* keeps dates as the text written (``2020-01-01`` stays a string);

and returns a :class:`Document`: the plain data plus a map from each value's path
(``("rules", 3, "when")``) to its line, so later checks can say ``file:line``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ossdx.core.errors import InputError, Location, Problem

MAX_BYTES = 1_000_000
MAX_DEPTH = 40

PathKey = tuple[str | int, ...]

_PLAIN_TAGS = {
    None,
    "!",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}
_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Document:
    """Plain data read from one YAML file, with the line of each value."""

    name: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict, compare=False, repr=False)
    length: int = 1

    def line_of(self, path: PathKey) -> int:
        """The line of the value at ``path`` (or of its nearest enclosing value)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def at(self, path: PathKey) -> Location:
        return Location(self.name, self.line_of(path))

    def problem(self, path: PathKey, message: str, code: str = "invalid") -> Problem:
        return Problem(self.at(path), message, code=code)


def _fail(name: str, line: int, message: str, code: str) -> InputError:
    return InputError([Problem(Location(name, max(1, line)), message, code=code)])


def _mark_line(mark: Any) -> int:
    return (mark.line + 1) if mark is not None else 1


def _syntax_error(name: str, exc: yaml.MarkedYAMLError) -> InputError:
    """A YAML syntax error in plain words, at its line (with the fix for the usual ones)."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or ""
    if "'\\t'" in problem:
        column = f" (column {mark.column + 1})" if mark is not None else ""
        what = (f"a tab character{column} cannot be read here; indent and separate with "
                "spaces, not tabs")
    elif problem == "but found another document":
        what = ("a second YAML document starts here; a file holds one document: remove the "
                "'---' line and what follows it, or move it to a file of its own")
    else:
        what = problem or exc.context or "invalid YAML"
    return _fail(name, _mark_line(mark), f"not valid YAML: {what}", "syntax")


def _check_events(text: str, name: str) -> None:
    """Scan the event stream: syntax errors, aliases, anchors, odd tags, depth."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = _mark_line(event.start_mark)
            if isinstance(event, yaml.AliasEvent):
                raise _fail(name, line, "YAML aliases ('*name') are not allowed; "
                            "write the value out in full", "alias")
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise _fail(name, line, f"YAML anchors ('&{anchor}') are not allowed; "
                            "write the value out in full", "alias")
            tag = getattr(event, "tag", None)
            if tag not in _PLAIN_TAGS:
                raise _fail(name, line, f"YAML tag '{tag}' is not allowed; only plain "
                            "values, lists and mappings are", "tag")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _fail(name, line, f"nesting deeper than {MAX_DEPTH} levels "
                                "is not allowed", "depth")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(name, exc) from None
    except yaml.YAMLError as exc:  # reader errors (e.g. control characters)
        mark = getattr(exc, "position", None)
        line = text.count("\n", 0, mark) + 1 if isinstance(mark, int) else 1
        raise _fail(name, line, f"not valid YAML: {exc}", "syntax") from None


class _Builder:
    """Turn a composed node tree into plain data, recording lines."""

    def __init__(self, name: str):
        self.name = name
        self.lines: dict[PathKey, int] = {}
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.lines.setdefault(path, _mark_line(node.start_mark))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _BOOL:
            return "yes" if self.constructor.construct_yaml_bool(node) else "no"
        if node.tag == _TIMESTAMP:
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise _fail(self.name, _mark_line(node.start_mark),
                        f"value {node.value!r} cannot be read: {exc}", "syntax") from None

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = _mark_line(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _fail(self.name, line, "a mapping key must be a plain word, "
                            "not a list or mapping", "key")
            if key_node.tag == _MERGE:
                raise _fail(self.name, line, "YAML merge keys ('<<') are not allowed; "
                            "write the values out in full", "alias")
            key = self._scalar(key_node)
            if key is None:
                raise _fail(self.name, line, "empty mapping key", "key")
            if isinstance(key, float):
                key = key_node.value
            if key in result:
                raise _fail(self.name, line, f"duplicate key '{key}' (first given on line "
                            f"{self.lines[(*path, key)]})", "duplicate-key")
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
            self.lines[(*path, key)] = line
        return result


def _line_count(text: str) -> int:
    return max(1, text.count("\n") + (0 if text.endswith("\n") else 1))


def parse_text(text: str, name: str) -> Document:
    """Parse YAML text (already size-checked) into a :class:`Document`.

    Every error names a line between 1 and the number of lines in the text.
    """
    length = _line_count(text)
    try:
        return _parse(text, name, length)
    except InputError as exc:
        raise InputError(
            Problem(Location(p.location.file, min(p.location.line or 1, length)), p.message,
                    p.severity, p.code)
            for p in exc.problems
        ) from None


def _parse(text: str, name: str, length: int) -> Document:
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise _fail(name, line, "the file contains a NUL byte; is it a YAML text file?",
                    "encoding")
    _check_events(text, name)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(name, exc) from None
    if node is None:
        return Document(name, None, {(): 1}, length)
    builder = _Builder(name)
    data = builder.build(node, ())
    return Document(name, data, builder.lines, length)


def parse_bytes(raw: bytes, name: str, max_bytes: int = MAX_BYTES) -> Document:
    """Parse uploaded or read bytes: size cap, UTF-8 check, then :func:`parse_text`."""
    if len(raw) > max_bytes:
        raise _fail(name, 1, f"file is {len(raw):,} bytes; the limit is {max_bytes:,}", "size")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _fail(name, line, "the file is not UTF-8 text", "encoding") from None
    return parse_text(text, name)


def read_document(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES,
                  name: str | None = None) -> Document:
    """Read and parse one YAML file; any problem raises :class:`InputError` with its line."""
    path = Path(path)
    shown = name or str(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise _whole_file(shown, "not a file", "missing")
        if size > max_bytes:
            raise _whole_file(shown, f"file is {size:,} bytes; the limit is {max_bytes:,}",
                              "size")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _whole_file(shown, "no such file", "missing") from None
    except IsADirectoryError:
        raise _whole_file(shown, "is a folder, not a file", "missing") from None
    except PermissionError:
        raise _whole_file(shown, "permission denied", "missing") from None
    except OSError as exc:
        raise _whole_file(shown, f"cannot be read: {exc.strerror or exc}", "missing") from None
    return parse_bytes(raw, shown, max_bytes)


def _whole_file(name: str, message: str, code: str) -> InputError:
    """A problem with the file itself, which has no line to name (it may not exist)."""
    return InputError([Problem(Location(name), message, code=code)])


def iter_yaml_files(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """YAML files under ``folder``, recursively, in a stable (sorted) order."""
    root = Path(folder)
    for path in sorted(root.rglob("*")):
        if path.suffix in {".yaml", ".yml"} and path.is_file():
            yield path


def dump_yaml(data: Any) -> str:
    """Write plain data as block YAML (keys in the order given)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
