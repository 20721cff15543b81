"""The list of third-party components in docs agrees with the pinned versions."""

from __future__ import annotations

import re
import tomllib

from conftest import ROOT


def pins() -> dict[str, str]:
    result = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            result[name.strip().lower().replace("_", "-")] = version.strip()
    return result


def documented() -> dict[str, str]:
    text = (ROOT / "docs" / "THIRD_PARTY.md").read_text()
    section = text.split("## Python packages used directly")[1].split("##")[0]
    rows = re.findall(r"^\| ([A-Za-z0-9_.-]+) \| ([0-9][^ |]*) \|", section, re.M)
    return {name.lower().replace("_", "-"): version for name, version in rows}


def test_documented_versions_match_the_pins():
    """Every package in docs/THIRD_PARTY.md is pinned at the version the table gives."""
    pinned = pins()
    table = documented()
    assert table, "no package rows found"
    mismatched = {n: (v, pinned.get(n)) for n, v in table.items() if pinned.get(n) != v}
    assert mismatched == {}


def test_every_direct_dependency_is_documented():
    """Each dependency named in pyproject.toml (runtime and test extra) is in the table."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    direct = {re.split(r"[<>=!~ \[]", n)[0].lower().replace("_", "-") for n in names}
    assert direct <= set(documented())


def test_every_pin_is_exact():
    """constraints.txt pins exact versions only (reproducible installs)."""
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.+-]*", line), line
