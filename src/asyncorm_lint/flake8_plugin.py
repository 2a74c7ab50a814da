"""The flake8 entry point ``DJA``: a thin shell around :mod:`asyncorm_lint.engine`."""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from typing import Any

from . import __version__
from .django_api import LATEST_LTS, parse_version
from .engine import SourceError, analyze_source, may_have_findings
from .options import Options


def _version(text: str) -> tuple[int, int]:
    try:
        return parse_version(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class Plugin:
    """flake8 hands us the file; the shared engine does the rest. flake8 handles ``# noqa``."""

    name = "asyncorm-lint"
    version = __version__
    options = Options()

    def __init__(self, tree: ast.AST, lines: list[str], filename: str) -> None:
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.add_option(
            "--dja-django-version",
            default=".".join(map(str, LATEST_LTS)),
            parse_from_config=True,
            help="Django version of the project: suggestions never name a method it lacks "
            "(default: %(default)s)",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        try:
            version = parse_version(str(options.dja_django_version))
        except ValueError as exc:
            raise SystemExit(f"flake8: --dja-django-version: {exc}") from None
        cls.options = Options(django_version=version)

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        source = "".join(self.lines)
        if not may_have_findings(source):
            return
        try:
            findings = analyze_source(source, self.filename, self.options)
        except SourceError:
            return  # flake8 reports E999 itself
        for finding in findings:
            yield finding.line, finding.col, finding.text, type(self)
