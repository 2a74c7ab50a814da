"""``asyncorm-lint fix``: modes, exit codes, safety (nothing lost), the end-to-end run."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from asyncorm_lint.cli import main
from asyncorm_lint.fix import command
from asyncorm_lint.rules import all_docs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BAD = (
    "from .models import Article\n\n\nasync def v(request):\n    return Article.objects.get(pk=1)\n"
)
FIXED = BAD.replace("Article.objects.get(", "await Article.objects.aget(")


def test_rewrites_in_place_and_reports(tmp_path: Path, capsys):
    target = tmp_path / "views.py"
    target.write_text(BAD)
    assert main(["fix", "--single-file", str(target)]) == 0
    assert target.read_text() == FIXED
    out = capsys.readouterr().out
    assert "1 file(s) rewritten" in out and "DJA101: 1" in out


def test_generator_coroutines_are_reported_not_rewritten(tmp_path: Path, capsys):
    source = (
        "import types\n\nfrom .models import Article\n\n\n@types.coroutine\n"
        "def v(pk):\n    article = Article.objects.get(pk=pk)\n    yield\n    return article\n"
    )
    target = tmp_path / "handlers.py"
    target.write_text(source)
    main(["fix", "--single-file", str(target)])
    assert target.read_text() == source  # "await" is not allowed in a generator
    assert "0 file(s) rewritten" in capsys.readouterr().out
    assert main(["check", "--single-file", str(target)]) == 1
    assert "DJA101" in capsys.readouterr().out


def test_diff_writes_nothing(tmp_path: Path, capsys):
    target = tmp_path / "views.py"
    target.write_text(BAD)
    assert main(["fix", "--single-file", "--diff", str(target)]) == 0
    captured = capsys.readouterr()
    assert "-    return Article.objects.get(pk=1)" in captured.out
    assert "+    return await Article.objects.aget(pk=1)" in captured.out
    assert "would be rewritten" in captured.err
    assert target.read_text() == BAD


def test_check_exit_codes(tmp_path: Path):
    target = tmp_path / "views.py"
    target.write_text(BAD)
    assert main(["fix", "--single-file", "--check", str(target)]) == 1
    assert target.read_text() == BAD
    target.write_text(FIXED)
    assert main(["fix", "--single-file", "--check", str(target)]) == 0


def test_files_without_findings_are_never_touched(tmp_path: Path):
    clean = tmp_path / "clean.py"
    clean.write_text(FIXED)
    os.utime(clean, (1_000_000_000, 1_000_000_000))
    assert main(["fix", "--single-file", str(clean)]) == 0
    assert clean.stat().st_mtime == 1_000_000_000


def test_unparsable_file_is_left_untouched_and_others_go_on(tmp_path: Path, capsys):
    broken = tmp_path / "a_broken.py"
    broken.write_text("async def f(:\n    Article.objects.get()\n")
    good = tmp_path / "b_views.py"
    good.write_text(BAD)
    assert main(["fix", "--single-file", str(tmp_path)]) == 1
    assert broken.read_text() == "async def f(:\n    Article.objects.get()\n"
    assert good.read_text() == FIXED
    out = capsys.readouterr().out
    assert "a_broken.py:" in out and "cannot parse" in out and "left untouched" in out
    assert "Traceback" not in out


def test_mode_encoding_and_newlines_are_kept(tmp_path: Path):
    target = tmp_path / "latin.py"
    source = (
        "# -*- coding: latin-1 -*-\r\nfrom .models import Article\r\n\r\n\r\n"
        "async def v():\r\n    s = '\xe9'\r\n    return Article.objects.get(pk=1), s\r\n"
    )
    target.write_bytes(source.encode("latin-1"))
    target.chmod(0o751)
    assert main(["fix", "--single-file", str(target)]) == 0
    data = target.read_bytes()
    assert b"await Article.objects.aget(pk=1)" in data
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert "\xe9".encode("latin-1") in data
    assert stat.S_IMODE(target.stat().st_mode) == 0o751


def test_a_rewrite_that_fails_verification_is_not_written(tmp_path: Path, monkeypatch, capsys):
    target = tmp_path / "views.py"
    target.write_text(BAD)
    monkeypatch.setattr(command, "_compiles", lambda source, path: b"aget" not in source)
    assert main(["fix", "--single-file", str(target)]) == 1
    assert target.read_text() == BAD
    assert "does not compile" in capsys.readouterr().out


def test_write_failure_leaves_the_original(tmp_path: Path, monkeypatch, capsys):
    target = tmp_path / "views.py"
    target.write_text(BAD)

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(command.os, "replace", boom)
    assert main(["fix", "--single-file", str(target)]) == 1
    assert target.read_text() == BAD
    assert "disk full" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["views.py"]  # no temp file left


def test_select_and_django_version_limit_rewrites(tmp_path: Path, capsys):
    target = tmp_path / "views.py"
    target.write_text(
        BAD.replace(
            "return Article",
            "obj = await Article.objects.aget(pk=2)\n    obj.save()\n    return Article",
        )
    )
    assert main(["fix", "--single-file", "--django-version", "4.1", str(target)]) == 0
    text = target.read_text()
    assert "obj.save()" in text and "await Article.objects.aget(pk=1)" in text
    assert "no equivalent async form here for Django 4.1" in capsys.readouterr().out
    target.write_text(BAD)
    assert main(["fix", "--single-file", "--select", "DJA3", str(target)]) == 0
    assert target.read_text() == BAD


def test_end_to_end_on_a_project_only_manual_findings_remain(tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(
        FIXTURES / "project", root, ignore=shutil.ignore_patterns(".asyncorm_lint_cache")
    )
    fixed = subprocess.run(
        [sys.executable, "-m", "asyncorm_lint", "fix", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    lint = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select=DJA", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    remaining = {line.split()[1] for line in lint.stdout.splitlines()}
    autofixable = {code for code, doc in all_docs().items() if doc.autofix}
    assert remaining, "the project keeps findings that need a human"
    assert not remaining & autofixable, lint.stdout
    again = subprocess.run(
        [sys.executable, "-m", "asyncorm_lint", "fix", "--check", "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stdout


def test_libcst_tool_runs_the_same_codemod(tmp_path: Path):
    target = tmp_path / "views.py"
    target.write_text(BAD)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "libcst.tool",
            "codemod",
            "-x",
            "--no-format",
            "asyncorm_lint.fix.codemod.AsyncOrmCodemod",
            str(target),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert target.read_text() == FIXED


@pytest.mark.parametrize("version", ["5.0", "5.2"])
def test_codemod_accepts_its_options(tmp_path: Path, version: str):
    target = tmp_path / "views.py"
    target.write_text(BAD)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "libcst.tool",
            "codemod",
            "-x",
            "--no-format",
            "asyncorm_lint.fix.codemod.AsyncOrmCodemod",
            "--django-version",
            version,
            str(target),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert target.read_text() == FIXED
