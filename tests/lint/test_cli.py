"""The standalone command: exit codes, formats, bad input, noqa, the rules table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asyncorm_lint.cli import main

BAD = "async def v(request):\n    x = Article.objects.get(pk=1)\n"


def test_clean_file_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "ok.py").write_text("async def v():\n    return 1\n")
    assert main(["check", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""


def test_findings_exit_one_with_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "bad.py").write_text(BAD)
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert 'bad.py:2:9: DJA101 Article.objects.get() in async function "v"' in out
    assert "1  DJA101" in out


def test_unparsable_file_is_one_line_and_others_go_on(tmp_path: Path, capsys):
    (tmp_path / "a_broken.py").write_text("async def (:\n")
    (tmp_path / "b_bad.py").write_text(BAD)
    assert main(["check", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    assert len(errors) == 1 and "a_broken.py:1:" in errors[0] and "cannot parse" in errors[0]
    assert "Traceback" not in captured.err
    assert "b_bad.py:2:9: DJA101" in captured.out


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "broken.py").write_text("async def f(:\n")
    main(["check", "--format", "json", str(tmp_path)])
    report = json.loads(capsys.readouterr().out)
    assert [(f["line"], f["col"], f["code"], f["fixable"]) for f in report["findings"]] == [
        (2, 9, "DJA101", True)
    ]
    assert len(report["errors"]) == 1 and "broken.py" in report["errors"][0]


def test_noqa_is_honoured(tmp_path: Path):
    (tmp_path / "q.py").write_text(BAD.replace("pk=1)", "pk=1)  # noqa: DJA101"))
    assert main(["check", str(tmp_path)]) == 0
    assert main(["check", "--disable-noqa", str(tmp_path)]) == 1


def test_select_and_ignore(tmp_path: Path):
    (tmp_path / "bad.py").write_text(BAD)
    assert main(["check", "--select", "DJA2", str(tmp_path)]) == 0
    assert main(["check", "--ignore", "DJA101", str(tmp_path)]) == 0
    assert main(["check", "--select", "DJA1", str(tmp_path)]) == 1


def test_bad_django_version_is_a_clear_usage_error(tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--django-version", "banana", str(tmp_path)])
    assert exc.value.code == 2
    assert "invalid Django version 'banana'" in capsys.readouterr().err


def test_encoding_cookie_and_crlf(tmp_path: Path):
    path = tmp_path / "latin.py"
    path.write_bytes(
        b"# -*- coding: latin-1 -*-\r\nasync def v():\r\n    s = '\xe9'\r\n"
        b"    return Article.objects.get(pk=1)\r\n"
    )
    assert main(["check", str(path)]) == 1


def test_rules_command(capsys: pytest.CaptureFixture[str]):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "DJA101  fix  Sync QuerySet/Manager method in async code" in out


def test_console_script_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "asyncorm_lint", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("asyncorm-lint ")


def test_linter_never_imports_django(tmp_path: Path):
    (tmp_path / "bad.py").write_text(BAD)
    code = (
        f"import sys; from asyncorm_lint.cli import main; main(['check', {str(tmp_path)!r}]);"
        "assert 'django' not in sys.modules, 'django imported'; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().endswith("ok"), result.stderr
