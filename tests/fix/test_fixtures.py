"""Every fix fixture: the rewrite equals its snapshot, parses, compiles and is idempotent."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import libcst as cst
import pytest

from asyncorm_lint.django_api import parse_version
from asyncorm_lint.fix.command import fix_file
from asyncorm_lint.options import Options

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fix"
CASES = sorted(p for p in FIXTURES.glob("*.py") if not p.name.endswith(".fixed.py"))
UPDATE = os.environ.get("ASYNCORM_UPDATE_FIX_SNAPSHOTS") == "1"


def _options(path: Path) -> Options:
    first = path.read_text().splitlines()[0]
    if first.startswith("# ARG --django-version="):
        return Options(django_version=parse_version(first.split("=", 1)[1]))
    return Options()


def check_fix(case: Path, tmp_path: Path) -> None:
    """The one helper: rewrite a copy, compare with the snapshot, re-parse, run again."""
    work = tmp_path / case.name
    shutil.copy(case, work)
    options = _options(case)
    result = fix_file(work, options, None, write=True)
    assert not result.error, result.error
    output = work.read_bytes()
    snapshot = case.with_suffix(".fixed.py")
    if UPDATE and output != case.read_bytes():
        snapshot.write_bytes(output)
    if snapshot.exists():
        assert output.decode() == snapshot.read_text(), f"{case.name}: output differs from snapshot"
        assert result.changed
    else:
        assert output == case.read_bytes(), f"{case.name}: must not be rewritten"
        assert not result.changed
    cst.parse_module(output)
    compile(output, str(work), "exec")
    again = fix_file(work, options, None, write=True)
    assert not again.changed and not again.error and work.read_bytes() == output


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_fix_fixture(case: Path, tmp_path: Path):
    check_fix(case, tmp_path)


def test_every_fixer_has_a_fixture():
    from asyncorm_lint.fix.fixers import MODULES

    snapshots = "".join(p.read_text() for p in FIXTURES.glob("*.fixed.py"))
    expected_text = {
        "await_method": "await Article.objects.aget(",
        "await_function": "await alogin(",
        "async_for": "async for",
        "async_comprehension": "[obj async for obj in",
        "wrap_sync_to_async": "await sync_to_async(get_profile)(",
    }
    for module in MODULES:
        name = module.__name__.rsplit(".", 1)[1]
        assert name in expected_text, f"fixer {name} has no fixture expectation"
        assert expected_text[name] in snapshots, f"no snapshot exercises fixer {name}"
