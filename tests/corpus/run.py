"""The real-code corpus: asyncorm-lint over large Django code bases, end to end.

    python tests/corpus/run.py [--only NAME ...] [--asyncify] [--json REPORT.json]

Downloads pinned releases of big Django projects with ``pip download --no-deps`` (the
archives are cached under ~/.cache/asyncorm_lint/corpus/), unpacks each into a fresh
temporary directory and, per package tree, runs the two commands as a user would:

* ``asyncorm-lint check --no-cache --format json``: findings per code;
* ``asyncorm-lint fix --diff --no-cache``: every file's diff is applied to its original
  text, and the result must parse (libcst) and compile (CPython, when the original did).

It fails (exit 1) on any internal error: a DJA000 finding, a traceback, an exit status
other than 0/1, a diff that does not apply or whose result does not parse, or a rewrite
that ``fix`` itself refused (its own output re-checked worse). Files that do not parse to
begin with are counted, not failures.

``--asyncify`` also checks copies where every ``def`` became ``async def``, so the rules
run over every function body of the corpus (slower: the deep run, not CI's).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tokenize
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "asyncorm_lint" / "corpus"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    sdist: bool = False  # the sdist ships the test suite; wheels are the library alone

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"


# Pinned: every one supports Python 3.11 and Django 5.2.
PACKAGES = (
    Package("django", "5.2.19", sdist=True),
    Package("djangorestframework", "3.16.1"),
    Package("django-allauth", "65.22.1"),
    Package("wagtail", "7.0.3"),
    Package("channels", "4.3.2"),
    Package("django-cms", "5.0.3"),
    Package("django-ninja", "1.4.3"),
)


@dataclass
class Result:
    package: str
    files: int = 0
    async_files: int = 0
    seconds: float = 0.0
    findings: Counter[str] = field(default_factory=Counter)
    unparsable: list[str] = field(default_factory=list)
    rewritten: int = 0
    rewrites: int = 0
    fix_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


# --- getting the code ---------------------------------------------------------------------
def download(package: Package) -> Path:
    """The package's archive, from the cache or from the index (fetched into a temporary
    directory first: an interrupted download never leaves a broken archive cached)."""
    directory = CACHE / "downloads" / f"{package.name}-{package.version}"
    found = _archives(directory)
    if found:
        return found[0]
    directory.parent.mkdir(parents=True, exist_ok=True)
    kind = ["--no-binary", ":all:"] if package.sdist else ["--only-binary", ":all:"]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", *kind]
    command += [] if package.sdist else ["--python-version", "3.11"]
    with tempfile.TemporaryDirectory(dir=directory.parent) as fetching:
        run = subprocess.run(
            [*command, "-d", fetching, package.spec], capture_output=True, text=True
        )
        if run.returncode or not _archives(Path(fetching)):
            raise SystemExit(f"corpus: pip download {package.spec} failed:\n{run.stderr}")
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(fetching, directory)
        Path(fetching).mkdir()  # for TemporaryDirectory's own cleanup
    return _archives(directory)[0]


def _archives(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith((".whl", ".tar.gz", ".zip")))


def unpack(archive: Path, into: Path) -> Path:
    into.mkdir(parents=True)
    if archive.name.endswith(".tar.gz"):
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")  # no links or paths out of ``into``
        (top,) = into.iterdir()  # an sdist holds one NAME-VERSION/ directory
        return top
    with zipfile.ZipFile(archive) as wheel:
        wheel.extractall(into)
    return into


# --- running the commands -----------------------------------------------------------------
def lint(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "asyncorm_lint", *args], capture_output=True, check=False
    )


def _command_failures(what: str, run: subprocess.CompletedProcess[bytes]) -> list[str]:
    stderr = run.stderr.decode("utf-8", "replace")
    problems = []
    if run.returncode not in (0, 1):
        problems.append(f"{what}: exit status {run.returncode}\n{stderr[-3000:]}")
    elif "Traceback" in stderr:
        problems.append(f"{what}: traceback\n{stderr[-3000:]}")
    return problems


def check(tree: Path, result: Result) -> None:
    start = time.perf_counter()
    run = lint("check", "--no-cache", "--format", "json", "--project-root", str(tree), str(tree))
    result.seconds = time.perf_counter() - start
    result.failures += _command_failures("check", run)
    if result.failures:
        return
    report = json.loads(run.stdout)
    for finding in report["findings"]:
        result.findings[finding["code"]] += 1
        if finding["code"] == "DJA000":
            result.failures.append(
                f"check: {finding['path']}:{finding['line']}: {finding['message']}"
            )
    for error in report["errors"]:
        if "cannot parse" in error:
            result.unparsable.append(error)
        else:
            result.failures.append(f"check: {error}")


def fix(tree: Path, result: Result) -> None:
    start = time.perf_counter()
    run = lint("fix", "--diff", "--no-cache", "--project-root", str(tree), str(tree))
    result.fix_seconds = time.perf_counter() - start
    result.failures += _command_failures("fix", run)
    summary = run.stderr.decode("utf-8", "replace")
    for line in summary.splitlines():
        line = line.strip()
        if "DJA000" in line and ": DJA000 " in line:
            result.failures.append(f"fix: {line}")
        elif ": not fixed, " in line:
            result.failures.append(f"fix refused its own rewrite: {line}")
        elif re.match(r"DJA\d+: \d+$", line):
            result.rewrites += int(line.split()[1])
    for path, hunks in split_diff(run.stdout.decode("utf-8", "surrogateescape")).items():
        result.rewritten += 1
        problem = applies_and_parses(Path(path), hunks)
        if problem:
            result.failures.append(f"fix --diff: {path}: {problem}")


def split_diff(text: str) -> dict[str, list[str]]:
    """``{path: its diff lines (after the headers)}`` from ``fix --diff``'s output."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    lines = [part + "\n" for part in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    for i, line in enumerate(lines):
        if line.startswith("--- a/") and i + 1 < len(lines) and lines[i + 1].startswith("+++ b/"):
            current = files.setdefault(line[len("--- a/") : -1], [])
        elif line.startswith("+++ b/") and current is not None and not current:
            continue
        elif current is not None and line:
            current.append(line)
    return files


HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply(original: str, diff: list[str]) -> str:
    """The new text: ``diff`` applied strictly (every context and removed line must match)."""
    old = [part + "\n" for part in original.split("\n")]
    old[-1] = old[-1][:-1]
    if not old[-1]:
        old.pop()
    new: list[str] = []
    position = 0
    last = ""  # the tag of the previous diff line
    for line in diff:
        match = HUNK.match(line)
        if match:
            start = int(match.group(1)) - (0 if match.group(2) == "0" else 1)
            if start < position:
                raise ValueError(f"overlapping hunk {line.strip()}")
            new += old[position:start]
            position = start
            last = "@"
            continue
        tag, text = line[:1], line[1:]
        if tag == "\\":  # "\ No newline at end of file" for the previous line
            if last not in (" ", "+", "-"):
                raise ValueError("misplaced no-newline marker")
            if last in (" ", "+"):
                new[-1] = new[-1].removesuffix("\n")
            continue
        if tag in (" ", "-"):
            if position >= len(old) or old[position].removesuffix("\n") != text.removesuffix("\n"):
                got = old[position] if position < len(old) else "<end of file>"
                raise ValueError(f"line {position + 1} is {got!r}, the diff says {text!r}")
            position += 1
            if tag == " ":
                new.append(text)
        elif tag == "+":
            new.append(text)
        else:
            raise ValueError(f"not a diff line: {line!r}")
        last = tag
    return "".join(new + old[position:])


def applies_and_parses(path: Path, diff: list[str]) -> str:
    """Empty when the diff applies to the file and the result parses (and compiles when the
    original did); else what went wrong."""
    import libcst as cst

    data = path.read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(iter(data.splitlines(keepends=True)).__next__)
        original = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError) as exc:
        return f"cannot decode the original: {exc}"
    try:
        new = apply(original, diff)
    except ValueError as exc:
        return f"the diff does not apply: {exc}"
    try:
        cst.parse_module(new)
    except Exception as exc:
        return f"libcst cannot parse the result: {type(exc).__name__}: {exc}"
    if _compiles(original) and not _compiles(new):
        try:
            ast.parse(new)
        except SyntaxError as exc:
            return f"the result does not compile: line {exc.lineno}: {exc.msg}"
        return "the result does not compile"
    return ""


def _compiles(text: str) -> bool:
    try:
        compile(text, "<corpus>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError):
        return False


# --- the asyncified variant ---------------------------------------------------------------
DEF = re.compile(r"^(\s*)def ", re.M)


def asyncify(tree: Path) -> None:
    """Every ``def`` becomes ``async def`` (files stay valid for libcst; CPython may reject
    some, e.g. ``yield from`` in them, which is fine: the summary then knows less)."""
    for path in tree.rglob("*.py"):
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        path.write_text(DEF.sub(r"\1async def ", text), "utf-8")


# --- the run ------------------------------------------------------------------------------
def count_files(tree: Path) -> tuple[int, int]:
    from asyncorm_lint.engine import may_have_findings
    from asyncorm_lint.files import python_files

    files = async_files = 0
    for path in python_files([str(tree)]):
        files += 1
        if may_have_findings(path.read_bytes().decode("utf-8", "replace")):
            async_files += 1
    return files, async_files


def run_package(package: Package, work: Path, asyncified: bool) -> Result:
    label = f"{package.name}-async" if asyncified else package.name
    tree = unpack(download(package), work / label)
    try:
        if asyncified:
            asyncify(tree)
        result = Result(label)
        result.files, result.async_files = count_files(tree)
        check(tree, result)
        fix(tree, result)
    finally:
        shutil.rmtree(work / label, ignore_errors=True)
    return result


COLUMNS = (
    f"{'package':<24} {'files':>6} {'async':>6} {'check s':>8} {'files/s':>8} "
    f"{'findings':>8} {'fix s':>6} {'rewritten':>9} {'unparsable':>10} {'failures':>8}"
)


def _row(r: Result) -> str:
    rate = r.files / r.seconds if r.seconds else 0.0
    return (
        f"{r.package:<24} {r.files:>6} {r.async_files:>6} {r.seconds:>8.1f} {rate:>8.0f} "
        f"{sum(r.findings.values()):>8} {r.fix_seconds:>6.1f} {r.rewritten:>9} "
        f"{len(r.unparsable):>10} {len(r.failures):>8}"
    )


def total_of(results: list[Result]) -> Result:
    total = Result("total")
    for r in results:
        total.files += r.files
        total.async_files += r.async_files
        total.seconds += r.seconds
        total.fix_seconds += r.fix_seconds
        total.findings.update(r.findings)
        total.unparsable += r.unparsable
        total.rewritten += r.rewritten
        total.rewrites += r.rewrites
        total.failures += r.failures
    return total


def report(results: list[Result], wall: float) -> str:
    total = total_of(results)
    rows = [COLUMNS, *map(_row, results), _row(total), ""]
    per_code = ", ".join(f"{c} {n}" for c, n in sorted(total.findings.items()))
    rows.append(f"findings per code: {per_code or 'none'}")
    for r in results:
        if r.findings:
            rows.append(
                f"  {r.package}: " + ", ".join(f"{c} {n}" for c, n in sorted(r.findings.items()))
            )
    rows.append(f"fix --diff: {total.rewrites} rewrite(s) in {total.rewritten} file(s)")
    rows.append(f"wall time: {wall:.1f} s")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these packages")
    parser.add_argument("--asyncify", action="store_true", help="also the asyncified copies")
    parser.add_argument("--json", type=Path, help="write the figures there too")
    args = parser.parse_args(argv)
    packages = [p for p in PACKAGES if not args.only or p.name in args.only]
    started = time.perf_counter()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="asyncorm-corpus-") as work:
        for package in packages:
            for asyncified in (False, True) if args.asyncify else (False,):
                result = run_package(package, Path(work), asyncified)
                print(f"corpus: {_row(result)}", file=sys.stderr, flush=True)
                results.append(result)
    total = time.perf_counter() - started
    print(report(results, total))
    failures = [f for r in results for f in r.failures]
    unparsable = [u for r in results for u in r.unparsable]
    if unparsable:
        print(f"\nfiles that do not parse to begin with ({len(unparsable)}):")
        for line in unparsable:
            print(f"  {line}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "seconds": round(total, 1),
                    "packages": [
                        {
                            "package": r.package,
                            "files": r.files,
                            "async_files": r.async_files,
                            "check_seconds": round(r.seconds, 2),
                            "fix_seconds": round(r.fix_seconds, 2),
                            "findings": dict(sorted(r.findings.items())),
                            "rewritten_files": r.rewritten,
                            "rewrites": r.rewrites,
                            "unparsable": len(r.unparsable),
                            "failures": r.failures,
                        }
                        for r in results
                    ],
                },
                indent=2,
            )
        )
    if failures:
        print(f"\nFAILED: {len(failures)} internal error(s) or unusable output(s):")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print("\nOK: no internal error, every diff applies and parses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
