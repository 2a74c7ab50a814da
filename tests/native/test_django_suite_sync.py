"""Django's own ORM test modules pass with ``install(sync=True)``, natively.

Runs ``scripts/django_suite.py --mode sync --fast`` (Django's sync test modules
``basic``, ``lookup``, ``select_related``, ``prefetch_related``, the relation
modules, ``get_or_create``, ``update``, ``delete``, ``bulk_create``) on SQLite
and, when it answers, PostgreSQL: stock Django and the shim in the same
invocation. Every test that passes on stock passes with the shim, and at least
95% of the ORM statements ran through the plans. The full matrix runs from the
script (docs/native.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import postgres_absent_reason

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "django_suite.py"


def test_django_orm_tests_pass_through_the_sync_routes() -> None:
    backend = "sqlite" if postgres_absent_reason() else "all"
    try:
        done = subprocess.run(
            [sys.executable, str(SCRIPT), "--mode", "sync", "--fast", "--backend", backend],
            capture_output=True,
            text=True,
            timeout=1200,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"Django's ORM test modules did not finish: {exc}")
    output = done.stdout + done.stderr
    if "could not download Django" in output:
        pytest.skip(output.strip().splitlines()[-1])
    verdicts = re.findall(r"^  (OK|FAILED): (\d+) regressions$", output, re.M)
    shares = [float(s) for s in re.findall(r"native share: \d+/\d+ = ([\d.]+)%", output)]
    expected = 1 if backend == "sqlite" else 2
    assert len(verdicts) == expected and len(shares) == expected, output
    assert all(v == ("OK", "0") for v in verdicts), output
    assert all(share >= 95.0 for share in shares), output
    runs = [int(n) for n in re.findall(r"^  basic\s+(\d+)/", output, re.M)]
    assert runs and all(n > 50 for n in runs), output
    assert done.returncode == 0, output
