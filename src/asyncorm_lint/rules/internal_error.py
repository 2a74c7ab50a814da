"""DJA000: the analysis of one file stopped on an internal error.

No visitor: the engine reports it (:func:`asyncorm_lint.engine.analyze_module` turns any
exception of one file's analysis into this single finding, and the run goes on). It is
declared here so that it is a code like the others: in the registry, ``asyncorm-lint
rules``, SARIF's rule table and docs/rules.md.
"""

from __future__ import annotations

from .base import Rule, RuleDoc, register

INTERNAL_ERROR = "DJA000"


@register
class InternalError(Rule):
    """A bug of asyncorm-lint's own, confined to the file it happened in."""

    codes = {
        INTERNAL_ERROR: "internal error, this file was not checked: {error}: please report it "
        "with this file (skip it meanwhile with --ignore DJA000 or a per-path ignore)",
    }
    docs = {
        INTERNAL_ERROR: RuleDoc(
            "Internal error: the file was not checked",
            "asyncorm-lint hit a bug of its own while analyzing this file (or libcst could "
            "not parse code that Python accepts). The run does not stop: the file gets this "
            "one finding, at the node being read when it happened (else line 1), naming the "
            "exception and the place in asyncorm-lint's code that raised it, and the other "
            "files are checked as usual. The file's other findings are unknown; "
            "`asyncorm-lint fix` leaves it untouched and reports it. It is reported whatever "
            "--select says; --ignore DJA000 or a per-path ignore skips it.",
            "# asyncorm-lint check app/\n"
            "# app/views.py:1:1: DJA000 internal error, this file was not checked: "
            "KeyError: 'x' (asyncorm_lint/walker.py:120): please report it with this file",
            "# pyproject.toml, until a fixed release is out\n"
            "[tool.asyncorm-lint]\n"
            'per-path-ignores = { "app/views.py" = ["DJA000"] }',
            manual="an internal error stopped the analysis of this file: please report it",
        ),
    }
    sync_frames = False
