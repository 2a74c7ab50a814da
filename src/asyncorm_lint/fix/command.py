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
import errno
import os
import stat
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext

from ..engine import SourceError, describe_internal_error, internal_error, may_have_findings, parse
from ..files import python_files
from ..findings import Finding
from ..large_stack import retrying_deep
from ..options import Options
from ..project import Project, module_name
from ..rules.internal_error import INTERNAL_ERROR
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
    tree = parse(data, str(path))
    name = module_name(path, project.root) if project is not None else path.stem
    context = CodemodContext(filename=str(path), full_module_name=name)
    codemod = AsyncOrmCodemod(context, project=project, options=options, load_project=False)
    new_tree = codemod.transform_module(tree)
    return tree, new_tree, codemod.outcomes


def _finding_counts(
    tree: cst.Module, path: Path, options: Options, project: Project | None
) -> Counter[str]:
    context = CodemodContext(filename=str(path))
    codemod = AsyncOrmCodemod(context, project=project, options=options, load_project=False)
    return Counter(f.code for f in codemod.findings(tree))


def _compiles(source: bytes, path: Path) -> bool:
    try:
        compile(source, str(path), "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def fix_file(path: Path, options: Options, project: Project | None, write: bool) -> FileResult:
    """Rewrite one file (``write``) or say how it would be rewritten. Never raises: what
    goes wrong is the result's ``error`` and the file is left as it was."""
    result = FileResult(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        result.error = f"{path}: cannot read: {exc}"
        return result
    if not may_have_findings(data.decode("utf-8", errors="replace")):
        return result
    try:
        rewrite = retrying_deep(_rewrite, data, path, options, project)
    except SourceError as exc:
        result.error = f"{exc}; left untouched"
        return result
    except Exception as exc:  # a bug of the rewriting must not cost the user a file
        result.error = _untouched(internal_error(str(path), describe_internal_error(exc)))
        return result
    result.outcomes, result.error = rewrite.outcomes, rewrite.error
    if rewrite.new is None:
        return result
    result.changed, result.diff = True, rewrite.diff
    if write:
        try:
            _write_atomically(path, rewrite.new, data)
        except OSError as exc:
            result.error = f"{path}: cannot write: {exc}; left untouched"
            result.changed = False
    return result


@dataclass
class _Rewrite:
    outcomes: list[Outcome]
    new: bytes | None = None  # None: nothing to write
    diff: str = ""
    error: str = ""


def _rewrite(data: bytes, path: Path, options: Options, project: Project | None) -> _Rewrite:
    """The new content of the file, checked (:class:`SourceError` when it does not parse)."""
    tree, new_tree, outcomes = _transform(data, path, options, project)
    failed = [o.finding for o in outcomes if o.finding.code == INTERNAL_ERROR]
    if failed:  # the analysis stopped on an internal error: nothing is known, nothing done
        return _Rewrite([], error=_untouched(failed[0]))
    new = new_tree.bytes
    if new == data:
        return _Rewrite(outcomes)
    problem = _verify(data, new, path, options, project)
    if problem:
        left = [Outcome(o.finding, False, "file left untouched") for o in outcomes]
        return _Rewrite(left, error=f"{path}: not fixed, {problem}; left untouched")
    return _Rewrite(outcomes, new, unified_diff(tree.code, new_tree.code, str(path)))


def unified_diff(old: str, new: str, path: str) -> str:
    """A diff ``patch`` and ``git apply`` take: lines end at ``\\n`` only (a form feed
    or a lone ``\\r`` stays inside its line), and a last line without a newline is
    marked so."""
    out = []
    for line in difflib.unified_diff(
        _patch_lines(old), _patch_lines(new), fromfile=f"a/{path}", tofile=f"b/{path}"
    ):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _patch_lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _untouched(finding: Finding) -> str:
    return f"{finding.path}:{finding.line}:{finding.col + 1}: {finding.text}; left untouched"


def _verify(old: bytes, new: bytes, path: Path, options: Options, project: Project | None) -> str:
    """Why the rewrite ``new`` of ``old`` must not be written, or ``""``."""
    try:
        new_tree = parse(new, str(path))
    except SourceError:
        return "the rewritten code does not parse"
    if _compiles(old, path) and not _compiles(new, path):
        return "the rewritten code does not compile"
    before = _finding_counts(parse(old, str(path)), path, options, project)
    after = _finding_counts(new_tree, path, options, project)
    new_codes = sorted(code for code, n in after.items() if n > before.get(code, 0))
    if new_codes:
        return f"the rewrite would add findings ({', '.join(new_codes)})"
    _, again, _ = _transform(new, path, options, project)
    if again.bytes != new:
        return "a second run would change it again"
    return ""


def _write_atomically(path: Path, data: bytes, expected: bytes) -> None:
    """Replace the file the path names (through a symlink) with ``data``: a temporary file
    in the same directory, written and synced, given the file's mode (and owner, when
    allowed), then ``os.replace``d over it. Any failure or interruption before the
    replace leaves the original as it was and no temporary file behind."""
    target = Path(os.path.realpath(path))
    info = target.stat()
    if not os.access(target, os.W_OK):  # as ``open(path, "w")`` would refuse
        raise PermissionError(errno.EACCES, "permission denied", str(path))
    if target.read_bytes() != expected:
        raise OSError("it changed on disk while being fixed")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(info.st_mode))
        if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(OSError):  # only root may give a file away
                os.chown(tmp, info.st_uid, info.st_gid)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every filesystem allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
