"""``asyncorm-lint``: the standalone command (same engine as the flake8 plugin).

``check`` reports, ``fix`` rewrites, ``rules`` lists the codes. Settings come from the
command line, then ``[tool.asyncorm-lint]`` in pyproject.toml, then the defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import ConfigError, load_config
from .django_api import LATEST_LTS, parse_version
from .noqa import suppressed
from .options import Options
from .output import FORMATS, render
from .project import Project
from .runner import lint_paths, load_project


def _version(text: str) -> tuple[int, int]:
    try:
        return parse_version(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument(
        "--django-version",
        type=_version,
        default=None,
        help=f"target Django version (default: config, else {'.'.join(map(str, LATEST_LTS))})",
    )
    parser.add_argument("--select", type=_codes, default=(), help="only these code prefixes")
    parser.add_argument(
        "--project-root",
        help="root of the analyzed tree (default: config, "
        "else the nearest directory with pyproject.toml, setup.cfg or manage.py)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="do not read or write the .asyncorm_lint_cache/ summary cache",
    )
    parser.add_argument(
        "--single-file",
        action="store_true",
        help="analyze each file alone, without the project-wide model index and call graph",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asyncorm-lint",
        description="Find sync Django ORM work reachable from async code, and fix it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="report findings (exit 1 when there are any)")
    _common(check)
    check.add_argument("--format", choices=sorted(FORMATS), default="text")
    check.add_argument("--ignore", type=_codes, default=(), help="skip these code prefixes")
    check.add_argument("--disable-noqa", action="store_true", help="report noqa'd lines too")
    fix = sub.add_parser("fix", help="rewrite what is safe to rewrite (exit 1 on failures)")
    _common(fix)
    fix.add_argument("--diff", action="store_true", help="print a unified diff, write nothing")
    fix.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when something would be rewritten",
    )
    sub.add_parser("rules", help="print the rule table")
    return parser


def _setup(args: argparse.Namespace) -> tuple[Options, Project | None]:
    config = load_config(Path(args.paths[0]))
    options = Options(select=args.select, ignore=getattr(args, "ignore", ())).with_config(config)
    if args.django_version is not None:
        options = dataclasses.replace(options, django_version=args.django_version)
    project = None
    if not args.single_file:
        root = args.project_root or (str(config.project_root) if config.project_root else None)
        project = load_project(
            args.paths, options, root, cache=not args.no_cache, progress=_progress()
        )
    return options, project


def _progress():  # type: ignore[no-untyped-def]
    """A progress bar on stderr for big trees, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total < 300:
            return
        width = 30
        filled = width * done // total
        end = "\n" if done == total else ""
        print(
            f"\rsummarizing [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    return show


def check(args: argparse.Namespace) -> int:
    options, project = _setup(args)
    result = lint_paths(args.paths, options, project)
    findings = result.findings
    if not args.disable_noqa:
        findings = [f for f in findings if not suppressed(f, result.sources[f.path].splitlines())]
    if args.format == "text":
        for error in result.errors:
            print(error, file=sys.stderr)
    text = render(args.format, findings, result.errors)
    if text:
        print(text)
    return 1 if findings or result.errors else 0


def fix(args: argparse.Namespace) -> int:
    from .fix.command import run

    options, project = _setup(args)
    return run(args, options, project)


def rules() -> int:
    from .rules import all_docs

    for code, doc in all_docs().items():
        print(f"{code}  {'fix ' if doc.autofix else '    '} {doc.title}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return check(args)
        if args.command == "fix":
            return fix(args)
        return rules()
    except ConfigError as exc:
        print(f"asyncorm-lint: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # each file is written whole or not at all: say so, no traceback
        print("asyncorm-lint: interrupted (files already written are complete)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
