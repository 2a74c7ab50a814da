"""Project-wide analysis: models across files, the call graph, the summary cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from asyncorm_lint import engine, project
from asyncorm_lint.cli import main
from asyncorm_lint.project import Project, find_root, module_name

from .fixture_markers import expected

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PROJECT = FIXTURES / "project"
CLEAN = FIXTURES / "project_clean"


def _markers(root: Path) -> set[tuple[str, int, str]]:
    return {
        (str(p.relative_to(root)), e.line, e.code)
        for p in sorted(root.rglob("*.py"))
        for e in expected(p)
    }


@pytest.fixture
def copy(tmp_path: Path):
    def make(source: Path) -> Path:
        target = tmp_path / source.name
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".asyncorm_lint_cache"))
        return target

    return make


def _flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select=DJA", *args, "."],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_flake8_over_the_project_matches_markers(copy):
    root = copy(PROJECT)
    result = _flake8(root, "-j2")
    assert result.stderr == ""
    got = set()
    for line in result.stdout.splitlines():
        path, row, _col, rest = line.split(":", 3)
        got.add((str(Path(path)), int(row), rest.split()[0]))
    want = _markers(root)
    assert got == want, f"missing={sorted(want - got)}\nunexpected={sorted(got - want)}"


def test_cli_over_the_project_matches_markers(copy, capsys, monkeypatch):
    root = copy(PROJECT)
    monkeypatch.chdir(root)
    main(["check", "--format", "json", "."])
    report = json.loads(capsys.readouterr().out)
    got = {(str(Path(f["path"])), f["line"], f["code"]) for f in report["findings"]}
    want = _markers(root)
    assert got == want, f"missing={sorted(want - got)}\nunexpected={sorted(got - want)}"
    messages = {(str(Path(f["path"])), f["line"]): f["message"] for f in report["findings"]}
    for p in sorted(root.rglob("*.py")):
        for e in expected(p):
            if e.text is not None:
                assert e.text in messages[(str(p.relative_to(root)), e.line)]


def test_correct_project_has_no_findings(copy):
    root = copy(CLEAN)
    result = _flake8(root)
    assert result.stdout == "" and result.stderr == ""
    assert main(["check", str(root)]) == 0


def test_single_file_mode_misses_what_needs_other_files(copy, capsys):
    root = copy(PROJECT)
    main(["check", "--single-file", "--format", "json", str(root / "blog" / "api" / "views.py")])
    codes = {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "DJA701" not in codes and "DJA402" not in codes  # cross-file knowledge only
    assert "DJA201" in codes


def _count_parses(monkeypatch) -> list[str]:
    parsed: list[str] = []
    real = engine.parse

    def counting(source: str, path: str = "<string>"):
        parsed.append(Path(path).name)
        return real(source, path)

    monkeypatch.setattr(project, "parse", counting)
    return parsed


def test_cache_reuses_summaries_and_rereads_only_changed_files(copy, monkeypatch):
    root = copy(PROJECT)
    parsed = _count_parses(monkeypatch)
    first = Project.load(root)
    cold = len(parsed)
    assert cold >= 5  # only modules async code can reach are parsed with libcst
    assert (root / ".asyncorm_lint_cache" / ".gitignore").read_text().strip().endswith("*")
    parsed.clear()
    Project.load(root)
    assert parsed == []  # warm: nothing parsed
    services = root / "accounts" / "services.py"
    services.write_text(services.read_text() + "\n\ndef extra():\n    return 1\n")
    parsed.clear()
    second = Project.load(root)
    assert parsed == ["services.py"]  # only the changed file, parsed once
    assert set(first.graph.functions) < set(second.graph.functions)


def test_model_change_invalidates_function_summaries(copy, monkeypatch):
    root = copy(PROJECT)
    Project.load(root)
    parsed = _count_parses(monkeypatch)
    models = root / "accounts" / "models.py"
    models.write_text(
        models.read_text().replace(
            "bio = models.TextField()", "bio = models.TextField()\n    age = models.IntegerField()"
        )
    )
    Project.load(root)
    assert "views.py" in parsed  # functions re-walked against the new model index


def test_no_cache_switch_writes_nothing(copy):
    root = copy(PROJECT)
    _flake8(root, "--dja-no-cache")
    assert main(["check", "--no-cache", str(root)]) == 1
    assert not (root / ".asyncorm_lint_cache").exists()


def test_concurrent_runs_share_the_cache_safely(copy):
    root = copy(PROJECT)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "asyncorm_lint", "check", "--format", "json", "."],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate() for p in procs]
    counts = {len(json.loads(out)["findings"]) for out, _err in outputs}
    assert counts == {len(_markers(root))}
    assert all(err == "" for _out, err in outputs)
    assert Project.load(root).graph is not None  # the merged cache still loads


def test_corrupt_cache_is_rebuilt(copy):
    root = copy(PROJECT)
    Project.load(root)
    for pickle_file in (root / ".asyncorm_lint_cache").rglob("*.pickle"):
        pickle_file.write_bytes(b"not a pickle")
    assert main(["check", str(root)]) == 1


def test_project_root_detection_and_override(tmp_path: Path):
    (tmp_path / "repo" / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "repo" / "pyproject.toml").write_text("")
    (tmp_path / "repo" / "src" / "pkg" / "__init__.py").write_text("")
    module = tmp_path / "repo" / "src" / "pkg" / "views.py"
    module.write_text("")
    assert find_root(module) == tmp_path / "repo"
    assert module_name(module, tmp_path / "repo") == "pkg.views"
    loose = tmp_path / "repo" / "scripts" / "tool.py"
    loose.parent.mkdir()
    loose.write_text("")
    assert module_name(loose, tmp_path / "repo") == "scripts.tool"


def test_flake8_project_root_option(copy):
    root = copy(PROJECT)
    (root / "manage.py").unlink()
    inner = root / "blog"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flake8",
            "--isolated",
            "--select=DJA",
            f"--dja-project-root={root}",
            "api/views.py",
        ],
        cwd=inner,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "DJA701" in result.stdout  # helpers in accounts/ are visible through the root


def test_cached_findings_follow_changes_in_other_files(copy, capsys):
    root = copy(PROJECT)
    views = "blog/api/views.py"

    def codes_on(line: int) -> set[str]:
        main(["check", "--format", "json", str(root)])
        report = json.loads(capsys.readouterr().out)
        return {
            f["code"] for f in report["findings"] if f["path"].endswith(views) and f["line"] == line
        }

    assert codes_on(52) == {"DJA701"}  # get_profile() runs Profile.objects.get()
    assert codes_on(52) == {"DJA701"}  # warm: from the findings cache
    services = root / "accounts" / "services.py"
    services.write_text(
        services.read_text().replace(
            "    return Profile.objects.get(member=member)", "    return member"
        )
    )
    assert codes_on(52) == set()  # views.py did not change, its findings did
