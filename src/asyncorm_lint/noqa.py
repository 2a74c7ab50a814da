"""``# noqa`` comments, read the way flake8 reads them (for the CLI and the codemod)."""

from __future__ import annotations

import re

from .findings import Finding

NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z][0-9]+(?:[,\s]+[A-Z][0-9]+)*))?", re.I)


def suppressed(finding: Finding, lines: list[str]) -> bool:
    if not 0 < finding.line <= len(lines):
        return False
    match = NOQA.search(lines[finding.line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    if not codes:
        return True
    return any(finding.code.startswith(c.strip().upper()) for c in re.split(r"[,\s]+", codes) if c)
