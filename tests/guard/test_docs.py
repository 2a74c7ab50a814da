"""docs/runtime-guard.md names every code the guard can report and every setting."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from runtime_guard.operations import ENTRY_POINTS
from runtime_guard.records import GUARD_CODES
from runtime_guard.settings import GuardSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "runtime-guard.md"


def test_every_guard_code_is_documented() -> None:
    text = DOC.read_text()
    assert [code for code in GUARD_CODES if code not in text] == []


def test_every_mapped_dja_code_is_documented() -> None:
    text = DOC.read_text()
    codes = sorted({fact.code for fact, _ in ENTRY_POINTS.values()})
    assert [c for c in codes if c not in text] == []


def test_every_setting_is_documented() -> None:
    text = DOC.read_text()
    assert [f.name for f in fields(GuardSettings) if f'"{f.name}"' not in text] == []
