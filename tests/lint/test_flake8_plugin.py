"""The flake8 plugin: registered as DJA, options from config files, E999 left to flake8."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BAD = "async def v(request):\n    x = Article.objects.get(pk=1)\n    x.save()\n"


def flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--select=DJA,E999", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_plugin_is_registered():
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True, check=True
    )
    assert "asyncorm-lint" in result.stdout


def test_option_from_setup_cfg(tmp_path: Path):
    (tmp_path / "views.py").write_text(BAD)
    (tmp_path / "setup.cfg").write_text("[flake8]\ndja-django-version = 4.0\n")
    out = flake8(tmp_path, "views.py").stdout
    assert "await sync_to_async(Article.objects.get)(...)" in out
    assert "sync_to_async(x.save)" in out


def test_option_on_command_line_and_tox_ini(tmp_path: Path):
    (tmp_path / "views.py").write_text(BAD)
    (tmp_path / "tox.ini").write_text("[flake8]\ndja-django-version = 4.2\n")
    out = flake8(tmp_path, "views.py").stdout
    assert "await x.asave()" in out  # 4.2 has asave
    out = flake8(tmp_path, "--dja-django-version=4.0", "views.py").stdout
    assert "sync_to_async(x.save)" in out


def test_bad_version_is_one_clear_line(tmp_path: Path):
    (tmp_path / "views.py").write_text(BAD)
    result = flake8(tmp_path, "--dja-django-version=nope", "views.py")
    assert result.returncode != 0
    assert "invalid Django version 'nope'" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_syntax_error_is_flake8s_e999_only(tmp_path: Path):
    (tmp_path / "broken.py").write_text("async def (:\n")
    result = flake8(tmp_path, "broken.py")
    assert "E999" in result.stdout
    assert "DJA" not in result.stdout and "Traceback" not in result.stderr


def test_noqa_handled_by_flake8(tmp_path: Path):
    (tmp_path / "views.py").write_text(BAD.replace("pk=1)", "pk=1)  # noqa: DJA101"))
    out = flake8(tmp_path, "views.py").stdout
    assert "DJA101" not in out and "DJA301" in out
