"""``asyncorm-lint fix PATH...``: apply the codemod to files, safely.

Every output is checked before it is written: it parses (libcst) and compiles (Python,
when the original did), it has no finding the original did not have, and a second run
changes nothing. Writes are atomic (temporary file in the same directory, then
``os.replace``) and keep the file's mode, encoding and newline style. A file that fails
any check is left untouched and reported; the others go on.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext

from ..engine import may_have_findings
from ..files import python_files
from ..options import Options
from ..project import Project, module_name
from .codemod import AsyncOrmCodemod, Outcome


@dataclass
class FileResult:
    path: Path
    changed: bool = False
    diff: str = ""
    error: str = ""
    outcomes: list[Outcome] = field(default_factory=list)


def _transform(
    data: bytes, path: Path, options: Options, project: Project | None
) -> tuple[cst.Module, cst.Module, list[Outcome]]:
    tree = cst.parse_module(data)
    name = module_name(path, project.root) if project is not None else path.stem
    context = CodemodContext(filename=str(path), full_module_name=name)
    codemod = AsyncOrmCodemod(context, project=project, options=options, load_project=False)
    new_tree = codemod.transform_module(tree)
    return tree, new_tree, codemod.outcomes


def _finding_counts(
    source: str, path: Path, options: Options, project: Project | None
) -> Counter[str]:
    context = CodemodContext(filename=str(path))
    codemod = AsyncOrmCodemod(context, project=project, options=options, load_project=False)
    return Counter(f.code for f in codemod.findings(cst.parse_module(source)))


def _compiles(source: bytes, path: Path) -> bool:
    try:
        compile(source, str(path), "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError):
        return False


def fix_file(path: Path, options: Options, project: Project | None, write: bool) -> FileResult:
    result = FileResult(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        result.error = f"{path}: cannot read: {exc}"
        return result
    try:
        text = data.decode("utf-8", errors="replace")
        if not may_have_findings(text):
            return result
        tree, new_tree, result.outcomes = _transform(data, path, options, project)
    except cst.ParserSyntaxError as exc:
        reason = str(exc.message).splitlines()[0] if exc.message else "syntax error"
        result.error = (
            f"{path}:{exc.raw_line}:{exc.raw_column + 1}: cannot parse: {reason}; left untouched"
        )
        return result
    except Exception as exc:  # a bug must not cost the user a file: report, leave it
        result.error = f"{path}: not fixed: internal error {type(exc).__name__}: {exc}"
        return result
    new_data = new_tree.bytes
    if new_data == data:
        return result
    problem = _verify(data, new_data, path, options, project)
    if problem:
        result.error = f"{path}: not fixed, {problem}; left untouched"
        result.outcomes = [
            Outcome(o.finding, False, "file left untouched") for o in result.outcomes
        ]
        return result
    result.changed = True
    result.diff = "".join(
        difflib.unified_diff(
            tree.code.splitlines(keepends=True),
            new_tree.code.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )
    if write:
        try:
            _write_atomically(path, new_data)
        except OSError as exc:
            result.error = f"{path}: cannot write: {exc}; left untouched"
            result.changed = False
    return result


def _verify(old: bytes, new: bytes, path: Path, options: Options, project: Project | None) -> str:
    try:
        new_tree = cst.parse_module(new)
    except cst.ParserSyntaxError:
        return "the rewritten code does not parse"
    if _compiles(old, path) and not _compiles(new, path):
        return "the rewritten code does not compile"
    before = _finding_counts(cst.parse_module(old).code, path, options, project)
    after = _finding_counts(new_tree.code, path, options, project)
    new_codes = sorted(code for code, n in after.items() if n > before.get(code, 0))
    if new_codes:
        return f"the rewrite would add findings ({', '.join(new_codes)})"
    _, again, _ = _transform(new, path, options, project)
    if again.bytes != new:
        return "a second run would change it again"
    return ""


def _write_atomically(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def run(args: argparse.Namespace, options: Options, project: Project | None) -> int:
    write = not (args.diff or args.check)
    results = [fix_file(p, options, project, write) for p in python_files(args.paths)]
    out = sys.stderr if args.diff else sys.stdout
    if args.diff:
        for result in results:
            if result.diff:
                sys.stdout.write(result.diff)
    _summary(results, out, write)
    failed = any(r.error for r in results)
    if args.check:
        return 1 if failed or any(r.changed for r in results) else 0
    return 1 if failed else 0


def _summary(results: list[FileResult], out: object, write: bool) -> None:
    def say(text: str = "") -> None:
        print(text, file=out)  # type: ignore[call-overload]

    changed = [r for r in results if r.changed]
    verb = "rewritten" if write else "would be rewritten"
    say(f"{len(changed)} file(s) {verb}")
    rewrites = Counter(o.finding.code for r in changed for o in r.outcomes if o.rewritten)
    for code, n in sorted(rewrites.items()):
        say(f"  {code}: {n}")
    left = [(r.path, o) for r in results for o in r.outcomes if not o.rewritten]
    if left:
        say(f"{len(left)} finding(s) left for you:")
        for path, outcome in sorted(left, key=lambda x: (str(x[0]), x[1].finding.line)):
            f = outcome.finding
            location = f"{path}:{f.line}:{f.col + 1}"
            say(f"  {location}: {f.code} {f.message} [not rewritten: {outcome.reason}]")
    errors = [r.error for r in results if r.error]
    if errors:
        say(f"{len(errors)} file(s) failed:")
        for error in errors:
            say(f"  {error}")
