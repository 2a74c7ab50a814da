"""``asyncorm-lint``: the standalone command (same engine as the flake8 plugin)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .django_api import LATEST_LTS, parse_version
from .noqa import suppressed
from .options import Options
from .output import as_json, as_text
from .runner import lint_paths, load_project


def _version(text: str) -> tuple[int, int]:
    try:
        return parse_version(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asyncorm-lint",
        description="Find sync Django ORM work reachable from async code.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="report findings (exit 1 when there are any)")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument(
        "--django-version",
        type=_version,
        default=LATEST_LTS,
        help="target Django version (default: %(default)s)",
    )
    check.add_argument("--select", type=_codes, default=(), help="only these code prefixes")
    check.add_argument("--ignore", type=_codes, default=(), help="skip these code prefixes")
    check.add_argument("--disable-noqa", action="store_true", help="report noqa'd lines too")
    check.add_argument(
        "--project-root",
        help="root of the analyzed tree (default: nearest "
        "directory with pyproject.toml, setup.cfg or manage.py)",
    )
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="do not read or write the .asyncorm_lint_cache/ summary cache",
    )
    check.add_argument(
        "--single-file",
        action="store_true",
        help="analyze each file alone, without the project-wide model index and call graph",
    )
    sub.add_parser("rules", help="print the rule table")
    fix = sub.add_parser("fix", help="rewrite what is safe to rewrite (exit 1 on failures)")
    fix.add_argument("paths", nargs="+", metavar="PATH")
    fix.add_argument("--diff", action="store_true", help="print a unified diff, write nothing")
    fix.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when something would be rewritten",
    )
    fix.add_argument(
        "--django-version",
        type=_version,
        default=LATEST_LTS,
        help="target Django version (default: %(default)s)",
    )
    fix.add_argument("--select", type=_codes, default=(), help="only these code prefixes")
    _project_arguments(fix)
    return parser


def _project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project-root",
        help="root of the analyzed tree (default: nearest "
        "directory with pyproject.toml, setup.cfg or manage.py)",
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


def fix(args: argparse.Namespace) -> int:
    from .fix.command import run

    options = Options(django_version=args.django_version, select=args.select)
    project = None
    if not args.single_file:
        project = load_project(args.paths, options, args.project_root, cache=not args.no_cache)
    return run(args, options, project)


def rules() -> int:
    from .rules import all_docs

    for code, doc in all_docs().items():
        print(f"{code}  {'fix ' if doc.autofix else '    '} {doc.title}")
    return 0


def check(args: argparse.Namespace) -> int:
    options = Options(django_version=args.django_version, select=args.select, ignore=args.ignore)
    project = None
    if not args.single_file:
        project = load_project(args.paths, options, args.project_root, cache=not args.no_cache)
    result = lint_paths(args.paths, options, project)
    findings = result.findings
    if not args.disable_noqa:
        findings = [f for f in findings if not suppressed(f, result.sources[f.path].splitlines())]
    if args.format == "json":
        print(as_json(findings, result.errors))
    else:
        for error in result.errors:
            print(error, file=sys.stderr)
        text = as_text(findings)
        if text:
            print(text)
    return 1 if findings or result.errors else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check":
        return check(args)
    if args.command == "rules":
        return rules()
    if args.command == "fix":
        return fix(args)
    return 2  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":
    sys.exit(main())
