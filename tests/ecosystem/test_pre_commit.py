"""The pre-commit hooks, run by pre-commit itself from this checkout (``try-repo``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BAD = (
    "from .models import Article\n\n\nasync def v(request):\n    return Article.objects.get(pk=1)\n"
)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
        },
    )


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(work: Path, home: Path, hook: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), hook, "--verbose"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_both_hooks_run_on_a_staged_file(tmp_path: Path, pre_commit_home: Path):
    work = tmp_path / "app"
    work.mkdir()
    _git(work, "init", "-q")
    (work / "views.py").write_text(BAD)
    _git(work, "add", "views.py")

    check = _try_repo(work, pre_commit_home, "asyncorm-lint")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "views.py:5:12: DJA101 Article.objects.get()" in check.stdout

    fix = _try_repo(work, pre_commit_home, "asyncorm-lint-fix")
    assert fix.returncode == 1, fix.stdout + fix.stderr  # pre-commit fails: files modified
    assert "files were modified by this hook" in fix.stdout
    assert "await Article.objects.aget(pk=1)" in (work / "views.py").read_text()

    _git(work, "add", "views.py")
    again = _try_repo(work, pre_commit_home, "asyncorm-lint")
    assert again.returncode == 0, again.stdout + again.stderr
