"""The rule registry, the fact table and docs/rules.md agree with each other."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import asyncorm_lint.rules as rules_pkg
from asyncorm_lint.django_api import ALL_FACTS, parse_version
from asyncorm_lint.rules import REGISTRY, all_codes, all_docs
from asyncorm_lint.rules_doc import render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_every_rule_module_registers_a_family():
    registered = {cls.__module__ for cls in REGISTRY}
    for info in pkgutil.iter_modules(rules_pkg.__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"asyncorm_lint.rules.{info.name}")
        assert module.__name__ in registered, f"{module.__name__} defines no @register family"


def test_codes_are_unique_and_documented():
    seen: dict[str, str] = {}
    for cls in REGISTRY:
        for code in cls.codes:
            assert code not in seen, f"{code} declared by {seen[code]} and {cls.__name__}"
            seen[code] = cls.__name__
            assert code in cls.docs, f"{code} has no RuleDoc on {cls.__name__}"
        assert set(cls.docs) == set(cls.codes)


def test_every_fact_code_is_declared_by_a_rule():
    codes = all_codes()
    for fact in ALL_FACTS:
        assert fact.code in codes, f"fact {fact.name} points at undeclared {fact.code}"


def test_rules_md_is_current():
    assert DOCS.read_text() == render(), (
        "docs/rules.md is stale: run python -m asyncorm_lint.rules_doc > docs/rules.md"
    )


def test_rules_md_documents_every_code():
    text = DOCS.read_text()
    for code in all_docs():
        assert f"### {code}" in text


def test_parse_version_rejects_garbage():
    assert parse_version("4.2.11") == (4, 2)
    for bad in ("", "five", "2.2"):
        try:
            parse_version(bad)
        except ValueError as exc:
            assert "Django version" in str(exc)
        else:  # pragma: no cover - the assertion is the point
            raise AssertionError(f"{bad!r} accepted")
