"""Django's own async queryset tests (``tests/async`` of its sdist) pass with the shim.

Runs ``scripts/django_async_suite.py async``: both modes (inside the test's
transaction, and committed through the pools) on SQLite and, when it answers,
PostgreSQL. The wider module set (auth, sessions, generic relations, basic)
takes minutes and is run by the script's default invocation (docs/native.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import postgres_absent_reason

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "django_async_suite.py"


def test_django_async_tests_pass_with_the_shim() -> None:
    backend = "sqlite" if postgres_absent_reason() else "all"
    try:
        done = subprocess.run(
            [sys.executable, str(SCRIPT), "async", "--backend", backend],
            capture_output=True,
            text=True,
            timeout=900,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"Django's async suite did not finish: {exc}")
    output = done.stdout + done.stderr
    if "could not download Django" in output:
        pytest.skip(output.strip().splitlines()[-1])
    runs = re.findall(
        r"^(sqlite|postgres)\s+(transaction|committed)\s+(\S+)\s+ran\s+(\d+)", output, re.M
    )
    expected = 2 if backend == "sqlite" else 4
    assert len(runs) == expected, output
    for _backend, _mode, status, ran in runs:
        assert status == "OK" and int(ran) > 60, output
    assert done.returncode == 0, output
    assert re.findall(r"native calls (\d+)", output) and all(
        int(n) > 100 for n in re.findall(r"native calls (\d+)", output)
    ), output
