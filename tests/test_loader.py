"""The YAML reader refuses hostile or surprising input with a message naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ossdx.core.errors import InputError
from ossdx.core.loader import MAX_BYTES, parse_bytes, parse_text, read_document

BILLION_LAUGHS = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""


def error_of(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_text(text, "case.yaml")
    return info.value


def test_values_keep_their_lines():
    """Every value's path maps back to the line it was written on."""
    doc = parse_text("a: 1\nb:\n  c: [x, y]\n  d:\n    - e: 2\n", "f.yaml")
    assert doc.line_of(("b", "c")) == 3
    assert doc.line_of(("b", "d", 0, "e")) == 5
    assert doc.line_of(("b", "missing")) == 2


def test_alias_bomb_is_refused_before_expansion():
    """A billion-laughs file is refused at its first anchor, not expanded."""
    problem = error_of(BILLION_LAUGHS).problems[0]
    assert problem.location.line == 1
    assert "anchors" in problem.message


def test_duplicate_key_names_the_second_line():
    """A repeated key is an error at the line of the repeat, naming the first."""
    problem = error_of("findings:\n  density: lytic\n  density: sclerotic\n").problems[0]
    assert problem.location.line == 3
    assert "duplicate key 'density'" in problem.message and "line 2" in problem.message


def test_deep_nesting_is_an_error_not_a_recursion_error():
    """A thousand nested lists give our error, not RecursionError."""
    problem = error_of("[" * 1000 + "]" * 1000).problems[0]
    assert "nesting" in problem.message


def test_python_tags_are_refused():
    """!!python/object tags are refused with the line."""
    problem = error_of("ok: 1\nx: !!python/object/apply:os.system ['true']\n").problems[0]
    assert problem.location.line == 2
    assert "tag" in problem.message


@pytest.mark.parametrize("word,expected", [("yes", "yes"), ("no", "no"), ("NO", "no"),
                                           ("off", "no"), ("true", "yes"), ('"no"', "no")])
def test_yaml_booleans_read_as_yes_no(word: str, expected: str):
    """Bare and quoted yes/no (and YAML 1.1 spellings) all read as the strings yes/no."""
    assert parse_text(f"v: {word}\n", "f.yaml").data == {"v": expected}


def test_dates_stay_text_and_decimals_stay_numbers():
    """A date is kept as written; 1.10 is the number 1.1 (quote it to keep the text)."""
    data = parse_text("d: 2024-01-31\nx: 1.10\ny: '1.10'\n", "f.yaml").data
    assert data == {"d": "2024-01-31", "x": 1.1, "y": "1.10"}


def test_syntax_error_line_is_within_the_file():
    """An unterminated list is reported on a line that exists."""
    problem = error_of("a: 1\nb: [1, 2\n").problems[0]
    assert 1 <= problem.location.line <= 2
    assert "not valid YAML" in problem.message


@pytest.mark.parametrize("text, line, column", [
    ("a:\n\tb: 1\n", 2, 1),              # a tab that indents
    ("a: {x: 1,\ty: 2}\n", 1, 10),         # a tab between the items of a flow mapping
])
def test_a_tab_is_named_with_its_column_and_the_fix(text: str, line: int, column: int):
    """A tab is called a tab, at its line and column, with the fix (spaces), not PyYAML's
    scanner wording."""
    problem = error_of(text).problems[0]
    assert problem.location.line == line
    assert f"a tab character (column {column})" in problem.message
    assert "spaces, not tabs" in problem.message and "cannot start any token" not in problem.message


def test_a_second_document_is_named_with_the_fix():
    """A second '---' document is reported at its line as a second document to remove."""
    problem = error_of("a: 1\n---\nb: 2\n").problems[0]
    assert problem.location.line == 2
    assert "a second YAML document starts here" in problem.message
    assert "remove the '---' line" in problem.message


def test_size_cap_before_parsing(tmp_path: Path):
    """A file over the cap is refused before it is read as YAML."""
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (MAX_BYTES + 10) + "\n")
    with pytest.raises(InputError) as info:
        read_document(big)
    assert "limit" in info.value.problems[0].message


def test_binary_and_non_utf8_are_refused():
    """Bytes that are not UTF-8 text give a clear error with a line."""
    with pytest.raises(InputError) as info:
        parse_bytes(b"a: 1\nb: \xff\xfe\n", "f.yaml")
    assert info.value.problems[0].location.line == 2
    with pytest.raises(InputError):
        parse_bytes(b"a: \x00\n", "f.yaml")


def test_missing_file_and_folder(tmp_path: Path):
    """A missing path or a folder gives our error, not an OSError."""
    with pytest.raises(InputError, match="no such file"):
        read_document(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="folder"):
        read_document(tmp_path)


def test_empty_document_is_none():
    """An empty file parses to None (callers report 'empty')."""
    assert parse_text("", "f.yaml").data is None
    assert parse_text("# only a comment\n", "f.yaml").data is None
