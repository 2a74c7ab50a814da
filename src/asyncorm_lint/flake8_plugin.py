"""The flake8 entry point ``DJA``: a thin shell around the shared analysis.

The project (model index and call graph of the whole tree) is loaded once per run in
``parse_options``, before flake8 forks its workers, from the on-disk summary cache when
it is current. flake8 handles ``# noqa``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from . import __version__
from .config import ConfigError, load_config
from .django_api import LATEST_LTS, parse_version
from .engine import SourceError, analyze_source, internal_error, may_have_findings
from .options import Options
from .project import Project, find_root, load_or_none

LTS = ".".join(map(str, LATEST_LTS))


class Plugin:
    """flake8 hands us the file; the shared engine does the rest."""

    name = "asyncorm-lint"
    version = __version__
    options = Options()
    enabled: ClassVar[bool] = True
    project: ClassVar[Project | None] = None

    def __init__(self, tree: ast.AST, lines: list[str], filename: str) -> None:
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.add_option(
            "--dja-django-version",
            default=None,
            parse_from_config=True,
            help="Django version of the project: suggestions never name a method it lacks "
            f"(default: [tool.asyncorm-lint] in pyproject.toml, else {LTS})",
        )
        parser.add_option(
            "--dja-project-root",
            default=None,
            parse_from_config=True,
            help="root of the analyzed tree (default: the nearest directory with "
            "pyproject.toml, setup.cfg or manage.py)",
        )
        parser.add_option(
            "--dja-no-cache",
            action="store_true",
            default=False,
            parse_from_config=True,
            help="do not read or write the .asyncorm_lint_cache/ summary cache",
        )
        parser.add_option(
            "--dja-single-file",
            action="store_true",
            default=False,
            parse_from_config=True,
            help="analyze each file alone, without the project-wide index",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        start = _start(options)
        try:
            config = load_config(start)
        except ConfigError as exc:
            raise SystemExit(f"flake8: asyncorm-lint: {exc}") from None
        resolved = Options().with_config(config)
        if options.dja_django_version is not None:
            try:
                version = parse_version(str(options.dja_django_version))
            except ValueError as exc:
                raise SystemExit(f"flake8: --dja-django-version: {exc}") from None
            resolved = dataclasses.replace(resolved, django_version=version)
        cls.options = resolved
        cls.project = None
        cls.enabled = _selected(options)
        if options.dja_single_file or not cls.enabled:
            return
        if options.dja_project_root:
            root: Path | None = Path(options.dja_project_root)
        elif config.project_root is not None:
            root = config.project_root
        else:
            root = find_root(start) if start.exists() else None
        if root is not None:
            cls.project = load_or_none(root, cls.options, cache=not options.dja_no_cache)
            for error in cls.project.errors if cls.project is not None else ():
                if "cannot parse" not in error:  # flake8 reports E999 for those itself
                    print(f"asyncorm-lint: {error}", file=sys.stderr)

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        if not self.enabled:
            return  # --select leaves out every DJA code: nothing to analyze
        source = "".join(self.lines)
        if not may_have_findings(source):
            return
        path = Path(self.filename)
        try:
            if self.project is not None and self.project.contains(path):
                findings = self.project.check(path, source)
            else:
                findings = analyze_source(source, self.filename, self.options)
        except SourceError as exc:
            # flake8 only runs us on code Python parses (else it reports E999 itself):
            # libcst rejecting it leaves the file unchecked, which must not go unseen.
            error = f"libcst cannot parse it: {exc.reason}"
            findings = [internal_error(self.filename, error, exc.line, max(exc.col - 1, 0))]
        for finding in findings:
            yield finding.line, finding.col, finding.text, type(self)


def _selected(options: argparse.Namespace) -> bool:
    """False when --select names codes and none of them is ours."""
    select = list(getattr(options, "select", None) or [])
    extend = list(getattr(options, "extend_select", None) or [])
    if not select:
        return True
    return any("DJA101".startswith(code) or code.startswith("DJA") for code in [*select, *extend])


def _start(options: argparse.Namespace) -> Path:
    """Where flake8 starts: its first path argument, else the working directory."""
    filenames = [f for f in getattr(options, "filenames", None) or [] if f != "-"]
    return Path(filenames[0]) if filenames else Path.cwd()
