"""DJA000: an internal error of the analysis costs one file, never the run.

A rule visitor is made to raise on ``explode()`` calls; files holding one get a single
DJA000 finding, the others are checked as usual, through the engine, the flake8 plugin,
``asyncorm-lint check`` and ``asyncorm-lint fix``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from asyncorm_lint import flake8_plugin, project
from asyncorm_lint.cli import main
from asyncorm_lint.engine import SourceError, analyze_source
from asyncorm_lint.fix.fixers import FIXERS
from asyncorm_lint.fixes import AwaitMethod
from asyncorm_lint.rules.queryset_methods import QuerysetMethodCalls

BAD = (
    "from .models import Article\n\n\nasync def v(request):\n    return Article.objects.get(pk=1)\n"
)
FIXED = BAD.replace("Article.objects.get(", "await Article.objects.aget(")
EXPLODING = "async def w(request):\n    x = 1\n    return explode(x)\n"

# Makes QuerysetMethodCalls.visit_Call raise on ``explode(...)``; run before flake8 in a
# subprocess (forked workers inherit it).
PATCH = """
from asyncorm_lint.rules.queryset_methods import QuerysetMethodCalls

original = QuerysetMethodCalls.visit_Call

def visit_Call(self, node):
    if getattr(node.func, "value", None) == "explode":
        raise RuntimeError("boom")
    original(self, node)

QuerysetMethodCalls.visit_Call = visit_Call
"""


@pytest.fixture
def explode(monkeypatch: pytest.MonkeyPatch) -> None:
    original = QuerysetMethodCalls.visit_Call

    def visit_call(self: QuerysetMethodCalls, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "explode":
            raise RuntimeError("boom")
        original(self, node)

    monkeypatch.setattr(QuerysetMethodCalls, "visit_Call", visit_call)


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "a_exploding.py").write_text(EXPLODING)
    (tmp_path / "b_views.py").write_text(BAD)
    (tmp_path / "c_exploding.py").write_text("async def u():\n    explode()\n")
    return tmp_path


def test_engine_reports_one_dja000_at_the_node_being_read(explode):
    findings = analyze_source(EXPLODING + BAD.replace("async def v", "async def v2"), "x.py")
    assert [(f.code, f.line, f.col) for f in findings] == [("DJA000", 3, 11)]
    message = findings[0].message
    assert "RuntimeError: boom" in message and "(asyncorm_lint/walker.py:" in message
    assert "please report it" in message


def test_error_after_the_walk_is_at_line_one(monkeypatch):
    def finish(self: QuerysetMethodCalls) -> None:
        raise KeyError("missing")

    monkeypatch.setattr(QuerysetMethodCalls, "finish", finish, raising=False)
    [finding] = analyze_source(BAD, "x.py")
    assert (finding.code, finding.line, finding.col) == ("DJA000", 1, 0)
    assert "KeyError: 'missing' (asyncorm_lint/engine.py:" in finding.message


@pytest.mark.parametrize("mode", [[], ["--single-file"]], ids=["project", "single-file"])
def test_check_reports_dja000_per_bad_file_and_checks_the_others(tmp_path, capsys, explode, mode):
    root = _tree(tmp_path)
    (root / "d_broken.py").write_text("async def (:\n")
    assert main(["check", "--no-cache", *mode, str(root)]) == 1
    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if ": DJA" in line]
    assert [(Path(line.split(":")[0]).name, line.split()[1]) for line in lines] == [
        ("a_exploding.py", "DJA000"),
        ("b_views.py", "DJA101"),
        ("c_exploding.py", "DJA000"),
    ]
    assert "a_exploding.py:3:12: DJA000 internal error" in captured.out
    assert "d_broken.py:1:" in captured.err and "cannot parse" in captured.err
    assert "Traceback" not in captured.out + captured.err


def test_dja000_in_json_and_sarif_and_despite_select(tmp_path, capsys, explode):
    root = _tree(tmp_path)
    assert main(["check", "--single-file", "--format", "json", "--select", "DJA2", str(root)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in report["findings"]] == ["DJA000", "DJA000"]
    assert main(["check", "--single-file", "--format", "sarif", str(root)]) == 1
    run = json.loads(capsys.readouterr().out)["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert {rules[r["ruleIndex"]] for r in run["results"]} == {"DJA000", "DJA101"}
    assert main(["check", "--single-file", "--ignore", "DJA000", str(root)]) == 1
    assert "DJA000" not in capsys.readouterr().out


def test_findings_of_a_failed_analysis_are_not_cached(tmp_path, capsys, monkeypatch):
    root = _tree(tmp_path)
    with monkeypatch.context() as patch:
        original = QuerysetMethodCalls.visit_Call

        def visit_call(self: QuerysetMethodCalls, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "explode":
                raise RuntimeError("boom")
            original(self, node)

        patch.setattr(QuerysetMethodCalls, "visit_Call", visit_call)
        main(["check", str(root)])
        assert "DJA000" in capsys.readouterr().out
    main(["check", str(root)])  # the bug is "fixed": the cache must not replay it
    assert "DJA000" not in capsys.readouterr().out


def test_structure_error_leaves_the_module_out_of_the_project_and_reports_it(
    tmp_path, capsys, monkeypatch
):
    root = _tree(tmp_path)
    real = project.read_structure

    def structure(source, module_name="", path="<string>"):  # type: ignore[no-untyped-def]
        if "explode" in str(source):
            raise AttributeError("no such thing")
        return real(source, module_name, path)

    monkeypatch.setattr(project, "read_structure", structure)
    monkeypatch.setattr("asyncorm_lint.engine.read_structure", structure)
    assert main(["check", "--no-cache", str(root)]) == 1
    out = capsys.readouterr().out
    assert out.count(": DJA000 internal error") == 2 and "AttributeError: no such thing" in out
    assert "b_views.py:5:12: DJA101" in out


def test_project_load_error_falls_back_to_single_files(tmp_path, capsys, monkeypatch):
    root = _tree(tmp_path)

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("graph")

    monkeypatch.setattr(project, "CallGraph", broken)
    assert main(["check", "--no-cache", str(root)]) == 1
    captured = capsys.readouterr()
    assert "internal error while reading the project" in captured.err
    assert "ValueError: graph (asyncorm_lint/project.py:" in captured.err
    assert "b_views.py:5:12: DJA101" in captured.out


def test_fix_leaves_the_failed_file_untouched_and_fixes_the_others(tmp_path, capsys, explode):
    root = _tree(tmp_path)
    exploding = (root / "a_exploding.py").read_bytes()
    assert main(["fix", "--no-cache", str(root)]) == 1
    assert (root / "a_exploding.py").read_bytes() == exploding
    assert (root / "b_views.py").read_text() == FIXED
    out = capsys.readouterr().out
    assert "2 file(s) failed:" in out
    assert "a_exploding.py:3:12: DJA000 internal error" in out and "left untouched" in out
    assert "Traceback" not in out


def test_fix_reports_a_crashing_fixer_as_dja000(tmp_path, capsys, monkeypatch):
    target = tmp_path / "views.py"
    target.write_text(BAD)

    def crash(*args: object) -> None:
        raise IndexError("fixer")

    monkeypatch.setitem(FIXERS, AwaitMethod, crash)
    assert main(["fix", "--single-file", str(target)]) == 1
    assert target.read_text() == BAD
    out = capsys.readouterr().out
    assert "views.py:1:1: DJA000 internal error" in out and "IndexError: fixer" in out


def test_flake8_reports_dja000_and_checks_the_other_files(tmp_path):
    root = _tree(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PATCH + "import sys\nfrom flake8.main.cli import main\nsys.exit(main(sys.argv[1:]))",
            "--isolated",
            "--select=DJA",
            ".",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    codes = sorted((line.split(":")[0], line.split()[1]) for line in result.stdout.splitlines())
    assert codes == [
        ("./a_exploding.py", "DJA000"),
        ("./b_views.py", "DJA101"),
        ("./c_exploding.py", "DJA000"),
    ]
    assert "./a_exploding.py:3:12: DJA000 internal error" in result.stdout
    assert "Traceback" not in result.stderr


def test_flake8_plugin_reports_code_libcst_cannot_parse(monkeypatch):
    def reject(source: str, path: str, options: object) -> None:
        raise SourceError(path, 2, 5, "unexpected token")

    monkeypatch.setattr(flake8_plugin, "analyze_source", reject)
    monkeypatch.setattr(flake8_plugin.Plugin, "project", None)
    plugin = flake8_plugin.Plugin(ast.parse(BAD), BAD.splitlines(keepends=True), "v.py")
    [(line, col, text, _)] = list(plugin.run())
    assert (line, col) == (2, 4)
    assert text.startswith("DJA000 internal error") and "libcst cannot parse it" in text
