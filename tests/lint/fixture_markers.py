"""Read the expected-finding markers of a lint fixture file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MARKER = re.compile(
    r'#\s*error:\s*(?P<codes>DJA\d+(?:\s*,\s*DJA\d+)*)(?:\s+"(?P<text>(?:[^"\\]|\\.)*)")?'
)
ARG = re.compile(r"^#\s*ARG\s+(?P<arg>\S+)")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lint"


@dataclass
class Expected:
    line: int
    code: str
    text: str | None


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.py"))


def expected(path: Path) -> list[Expected]:
    out = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = MARKER.search(line)
        if match:
            text = match.group("text")
            if text is not None:
                text = re.sub(r"\\(.)", r"\1", text)
            for code in re.split(r"\s*,\s*", match.group("codes")):
                out.append(Expected(number, code, text))
    return out


def arguments(path: Path) -> list[str]:
    args = []
    for line in path.read_text().splitlines()[:5]:
        match = ARG.match(line)
        if match:
            args.append(match.group("arg"))
    return args
