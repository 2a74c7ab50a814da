"""Render findings: flake8-style text and JSON."""

from __future__ import annotations

import json
from collections import Counter

from .findings import Finding


def as_text(findings: list[Finding], summary: bool = True) -> str:
    lines = [f"{f.path}:{f.line}:{f.col + 1}: {f.code} {f.message}" for f in findings]
    if summary and findings:
        counts = Counter(f.code for f in findings)
        lines.append("")
        lines.extend(f"{n:5d}  {code}" for code, n in sorted(counts.items()))
        lines.append(
            f"{len(findings):5d}  finding{'s' if len(findings) != 1 else ''} in "
            f"{len({f.path for f in findings})} file(s)"
        )
    return "\n".join(lines)


def as_json(findings: list[Finding], errors: list[str]) -> str:
    return json.dumps({"findings": [f.as_dict() for f in findings], "errors": errors}, indent=2)
