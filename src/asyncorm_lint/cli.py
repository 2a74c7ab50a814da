"""``asyncorm-lint``: the standalone command (same engine as the flake8 plugin)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .django_api import LATEST_LTS, parse_version
from .engine import SourceError, analyze_source
from .files import python_files, read_source
from .findings import Finding
from .noqa import without_noqa
from .options import Options
from .output import as_json, as_text


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
    sub.add_parser("rules", help="print the rule table")
    return parser


def rules() -> int:
    from .rules import all_docs

    for code, doc in all_docs().items():
        print(f"{code}  {'fix ' if doc.autofix else '    '} {doc.title}")
    return 0


def check(args: argparse.Namespace) -> int:
    options = Options(django_version=args.django_version, select=args.select, ignore=args.ignore)
    findings: list[Finding] = []
    errors: list[str] = []
    for path in python_files(args.paths):
        try:
            source = read_source(path)
            found = analyze_source(source, str(path), options)
        except SourceError as exc:
            errors.append(str(exc))
            continue
        except (OSError, UnicodeDecodeError, SyntaxError) as exc:
            errors.append(f"{path}: cannot read: {exc}")
            continue
        findings.extend(found if args.disable_noqa else without_noqa(found, source))
    if args.format == "json":
        print(as_json(findings, errors))
    else:
        for error in errors:
            print(error, file=sys.stderr)
        text = as_text(findings)
        if text:
            print(text)
    return 1 if findings or errors else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check":
        return check(args)
    if args.command == "rules":
        return rules()
    return 2  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":
    sys.exit(main())
