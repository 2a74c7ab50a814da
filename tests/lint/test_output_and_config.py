"""SARIF/JSON/GitHub output and [tool.asyncorm-lint] configuration, for the CLI and flake8."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asyncorm_lint.cli import main
from asyncorm_lint.rules import all_docs

EXAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "example_project"
BAD = (
    "from .models import Article\n\n\nasync def v(request):\n"
    "    x = Article.objects.get(pk=1)\n    return request.user, x\n"
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_sarif_of_the_example_project_has_the_required_fields(capsys):
    status, out, _ = _run(capsys, "check", "--format", "sarif", str(EXAMPLE))
    assert status == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "asyncorm-lint"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(all_docs())
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert rule["helpUri"].endswith(f"docs/rules.md#{rule['id'].lower()}")
    assert len(run["results"]) >= 10
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"].startswith(result["ruleId"])
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith(".py")
        assert not physical["artifactLocation"]["uri"].startswith("/")
        assert physical["region"]["startLine"] >= 1 and physical["region"]["startColumn"] >= 1
    assert run["invocations"][0]["executionSuccessful"] is True


def test_github_annotations(tmp_path: Path, capsys):
    (tmp_path / "views.py").write_text(BAD)
    status, out, _ = _run(capsys, "check", "--single-file", "--format", "github", str(tmp_path))
    assert status == 1
    lines = out.strip().splitlines()
    assert (
        lines[0].startswith("::warning file=") and ",line=5,col=9,title=DJA101::DJA101 " in lines[0]
    )
    assert any("title=DJA501" in line for line in lines)


def test_text_summary_by_code(tmp_path: Path, capsys):
    (tmp_path / "views.py").write_text(BAD)
    _, out, _ = _run(capsys, "check", "--single-file", str(tmp_path))
    assert "    1  DJA101" in out and "    1  DJA501" in out and "2  findings in 1 file(s)" in out


def _project(tmp_path: Path, config: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(config)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "views.py").write_text(BAD)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_views.py").write_text(BAD)
    return tmp_path


def test_config_django_version_and_per_path_ignores(tmp_path: Path, capsys):
    root = _project(
        tmp_path,
        '[tool.asyncorm-lint]\ndjango-version = "4.2"\n'
        'per-path-ignores = { "tests/*" = ["DJA5"] }\n',
    )
    _, out, _ = _run(capsys, "check", "--format", "json", str(root))
    findings = json.loads(out)["findings"]
    by_file = {(Path(f["path"]).name, f["code"]) for f in findings}
    assert by_file == {("views.py", "DJA101"), ("views.py", "DJA501"), ("test_views.py", "DJA101")}
    message = next(f["message"] for f in findings if f["code"] == "DJA501")
    assert "sync_to_async(get_user)" in message  # 4.2 has no request.auser()
    # The command line wins over the configuration.
    _, out, _ = _run(capsys, "check", "--django-version", "5.0", "--format", "json", str(root))
    message = next(f["message"] for f in json.loads(out)["findings"] if f["code"] == "DJA501")
    assert "await request.auser()" in message


def test_config_extra_managers_and_wrappers(tmp_path: Path, capsys):
    root = _project(tmp_path, "[tool.asyncorm-lint]\n")
    (root / "app" / "views.py").write_text(
        "from app.utils import in_thread\nfrom .models import Article\n\n\n"
        "@in_thread\ndef load():\n    return Article.objects.count()\n\n\n"
        "async def v():\n    a = Article.live.count()\n    b = await load()\n    return a, b\n"
    )

    def found() -> list[tuple[int, str]]:
        main(["check", "--no-cache", "--format", "json", str(root / "app")])
        return [(f["line"], f["code"]) for f in json.loads(capsys.readouterr().out)["findings"]]

    assert found() == [(12, "DJA701")]  # unknown wrapper, unknown manager attribute
    (root / "pyproject.toml").write_text(
        '[tool.asyncorm-lint]\nextra-managers = ["live"]\n'
        'extra-async-wrappers = ["app.utils.in_thread"]\n'
    )
    assert found() == [(11, "DJA101")]


def test_bad_config_is_one_clear_line(tmp_path: Path, capsys):
    root = _project(tmp_path, '[tool.asyncorm-lint]\ndjango-verison = "5.0"\n')
    status, out, err = _run(capsys, "check", str(root))
    assert status == 2 and out == ""
    assert "unknown key 'django-verison'" in err and "Traceback" not in err
    (root / "pyproject.toml").write_text('[tool.asyncorm-lint]\ndjango-version = "x"\n')
    status, _, err = _run(capsys, "check", str(root))
    assert status == 2 and "invalid Django version 'x'" in err


def test_flake8_honours_the_same_config(tmp_path: Path):
    root = _project(
        tmp_path,
        '[tool.asyncorm-lint]\ndjango-version = "4.2"\n'
        'per-path-ignores = { "tests/*" = ["DJA5"] }\n',
    )
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=DJA", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = sorted(result.stdout.splitlines())
    assert [line.split(":")[0] + " " + line.split()[1] for line in lines] == [
        "./app/views.py DJA101",
        "./app/views.py DJA501",
        "./tests/test_views.py DJA101",
    ]
    assert "sync_to_async(get_user)" in result.stdout
    (root / "pyproject.toml").write_text('[tool.asyncorm-lint]\nextra-managers = "live"\n')
    bad = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=DJA", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0
    assert "extra-managers: expected a list of strings" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr
