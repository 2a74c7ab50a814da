"""Every lint fixture, through the engine, the CLI and flake8: exactly the marked findings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asyncorm_lint.cli import main
from asyncorm_lint.django_api import parse_version
from asyncorm_lint.engine import analyze_source
from asyncorm_lint.options import Options

from .fixture_markers import arguments, expected, fixture_files

FILES = fixture_files()
IDS = [p.stem for p in FILES]


def _options(path: Path) -> Options:
    for arg in arguments(path):
        if arg.startswith("--django-version="):
            return Options(django_version=parse_version(arg.split("=", 1)[1]))
    return Options()


def _cli_args(path: Path) -> list[str]:
    return [a for a in arguments(path)]


def test_fixtures_exist_for_every_family():
    from asyncorm_lint.rules import all_codes

    # DJA000 (an internal error) has no code that triggers it: see test_internal_error.py.
    families = {code[:4] for code in all_codes() if not code.startswith(("DJA0", "DJA7"))}
    covered = {e.code[:4] for path in FILES for e in expected(path)}
    assert families <= covered, f"families without fixture markers: {sorted(families - covered)}"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_engine_matches_markers(path: Path):
    source = path.read_text()
    findings = analyze_source(source, str(path), _options(path))
    got = {(f.line, f.code) for f in findings}
    want = {(e.line, e.code) for e in expected(path)}
    missing = sorted(want - got)
    extra = sorted((f.line, f.code, f.message) for f in findings if (f.line, f.code) not in want)
    assert not missing and not extra, f"missing={missing}\nunexpected={extra}"
    messages = {(f.line, f.code): f.message for f in findings}
    for e in expected(path):
        if e.text is not None:
            assert e.text in messages[(e.line, e.code)], (e, messages[(e.line, e.code)])


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_cli_matches_markers(path: Path, capsys: pytest.CaptureFixture[str]):
    want = {(e.line, e.code) for e in expected(path)}
    status = main(["check", "--single-file", "--format", "json", *_cli_args(path), str(path)])
    report = json.loads(capsys.readouterr().out)
    got = {(f["line"], f["code"]) for f in report["findings"]}
    assert got == want
    assert report["errors"] == []
    assert status == (1 if want else 0)


def test_flake8_matches_markers(tmp_path: Path):
    """One flake8 process per option set, over every fixture (flake8 applies noqa itself)."""
    by_args: dict[tuple[str, ...], list[Path]] = {}
    for path in FILES:
        flake8_args = tuple(
            a.replace("--django-version", "--dja-django-version") for a in arguments(path)
        )
        by_args.setdefault(flake8_args, []).append(path)
    for args, paths in by_args.items():
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "flake8",
                "--isolated",
                "--select=DJA",
                "--dja-single-file",
                *args,
                *map(str, paths),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.stderr == "", result.stderr
        got = set()
        for line in result.stdout.splitlines():
            path, row, _col, rest = line.split(":", 3)
            got.add((Path(path).name, int(row), rest.split()[0]))
        want = {(p.name, e.line, e.code) for p in paths for e in expected(p)}
        assert got == want, f"missing={sorted(want - got)} unexpected={sorted(got - want)}"
