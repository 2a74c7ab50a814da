"""Render findings: flake8-style text, JSON, SARIF 2.1.0 and GitHub workflow annotations."""

from __future__ import annotations

import json
import os
from collections import Counter

from . import __version__
from .findings import Finding

DOCS_URL = "https://github.com/asyncorm-lint/asyncorm-lint/blob/main/docs/rules.md"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


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


def as_sarif(findings: list[Finding], errors: list[str]) -> str:
    """One SARIF run: every rule with help text and a help URI, every finding located."""
    from .rules import all_docs

    docs = all_docs()
    codes = sorted(docs)
    rules = [
        {
            "id": code,
            "name": docs[code].title.replace(" ", ""),
            "shortDescription": {"text": docs[code].title},
            "fullDescription": {"text": docs[code].why},
            "help": {
                "text": f"{docs[code].why}\nBefore:\n{docs[code].before}\n"
                f"After:\n{docs[code].after}",
                "markdown": f"{docs[code].why}\n\nBefore:\n```python\n{docs[code].before}\n```\n"
                f"After:\n```python\n{docs[code].after}\n```",
            },
            "helpUri": f"{DOCS_URL}#{code.lower()}",
            "defaultConfiguration": {"level": "warning"},
            "properties": {"autofix": docs[code].autofix},
        }
        for code in codes
    ]
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": codes.index(f.code),
            "level": "warning",
            "message": {"text": f"{f.code} {f.message}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.path)},
                        "region": {"startLine": f.line, "startColumn": f.col + 1},
                    }
                }
            ],
        }
        for f in findings
    ]
    run = {
        "tool": {
            "driver": {
                "name": "asyncorm-lint",
                "version": __version__,
                "informationUri": DOCS_URL,
                "rules": rules,
            }
        },
        "results": results,
        "invocations": [
            {
                "executionSuccessful": not errors,
                "toolExecutionNotifications": [
                    {"level": "error", "message": {"text": e}} for e in errors
                ],
            }
        ],
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def _uri(path: str) -> str:
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return relative.replace(os.sep, "/").removeprefix("./")


def as_github(findings: list[Finding], errors: list[str]) -> str:
    """``::warning file=...,line=...::message`` workflow commands."""
    lines = [
        f"::warning file={_prop(_uri(f.path))},line={f.line},col={f.col + 1},"
        f"title={_prop(f.code)}::{_data(f.code + ' ' + f.message)}"
        for f in findings
    ]
    lines += [f"::error::{_data(e)}" for e in errors]
    return "\n".join(lines)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


FORMATS = {"text", "json", "sarif", "github"}


def render(fmt: str, findings: list[Finding], errors: list[str]) -> str:
    if fmt == "json":
        return as_json(findings, errors)
    if fmt == "sarif":
        return as_sarif(findings, errors)
    if fmt == "github":
        return as_github(findings, errors)
    return as_text(findings)
