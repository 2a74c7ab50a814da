"""Lint a set of paths: the one code path behind the CLI (and the codemod's analysis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .engine import SourceError, analyze_source
from .files import python_files, read_source
from .findings import Finding
from .options import Options
from .project import Progress, Project, find_root, load_or_none


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)


def load_project(
    paths: list[str],
    options: Options,
    root: str | None = None,
    cache: bool = True,
    progress: Progress | None = None,
) -> Project | None:
    """The project the paths belong to (``root`` overrides the marker-file search); None
    when an internal error stops its loading (each file is then analyzed alone)."""
    base = Path(root) if root else find_root(Path(paths[0]) if paths else Path.cwd())
    return load_or_none(base, options, cache=cache, progress=progress)


def lint_paths(paths: list[str], options: Options, project: Project | None = None) -> LintResult:
    """Findings for every Python file under ``paths`` (whole-project view when given one)."""
    result = LintResult()
    if project is not None:
        result.errors.extend(project.errors)
    for path in python_files(paths):
        try:
            source = read_source(path)
        except (OSError, UnicodeDecodeError, SyntaxError) as exc:
            result.errors.append(f"{path}: cannot read: {exc}")
            continue
        try:
            if project is not None and project.contains(path):
                found = project.check(path, source)
            else:
                found = analyze_source(source, str(path), options)
        except SourceError as exc:
            if str(exc) not in result.errors:
                result.errors.append(str(exc))
            continue
        result.sources[str(path)] = source
        result.findings.extend(found)
    return result
