"""docs/layer2.md's "Rule index" lists every rule name of the inference layer, and names
nothing the code does not know: every name the code raises or answers with is in the table,
and every name in the table appears in ``funai/layer2/``."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted((REPO / "funai" / "layer2").glob("*.py"))
NOT_RULES = {"accepted"}  # the default of Admission.rule


def _index() -> set[str]:
    doc = (REPO / "docs" / "layer2.md").read_text()
    section = doc.split("## Rule index", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    names: set[str] = set()
    for row in rows:
        names.update(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)*)`", row.split("|")[2]))
    return names


def _raised() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        text = path.read_text()
        for m in re.finditer(
            r'(?:L2Error|AdmissionError|Admission)\(\s*(?:[^()"]*?,\s*)*"([a-z0-9-]+)"',
            text,
            re.S,
        ):
            found.add(m.group(1))
        for m in re.finditer(r'_refused\(\s*\w+,\s*"[a-z0-9]+",\s*f?"([a-z0-9-]+)', text):
            found.add(m.group(1))
        for m in re.finditer(r'super\(\).__init__\("([a-z0-9-]+)"', text):
            found.add(m.group(1))
    return found - NOT_RULES


def test_every_rule_the_code_uses_is_indexed() -> None:
    raised = _raised()
    assert len(raised) > 60  # the scan found the rules
    missing = sorted(raised - _index())
    assert not missing, f"rules missing from docs/layer2.md's Rule index: {missing}"


def test_every_indexed_rule_is_in_the_code() -> None:
    code = "".join(p.read_text() for p in SOURCES)
    unknown = sorted(n for n in _index() if n not in code)
    assert not unknown, f"Rule index names not found in funai/layer2: {unknown}"
