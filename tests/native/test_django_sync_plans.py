"""Django's own sync test modules for writes pass with the write plans in place of its methods.

Runs ``scripts/django_sync_plans_suite.py`` (about 25 s): Django's sync write
methods and related managers' writes are replaced by the shim's write plans on
the sync driver, and Django's test modules (``delete``, ``bulk_create``,
``get_or_create``, ``many_to_many``, ``m2m_through``, ``generic_relations``,
``model_inheritance``, ``signals``...) run on SQLite and, when it answers,
PostgreSQL. Only the three tests the harness itself breaks may fail.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import postgres_absent_reason

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "django_sync_plans_suite.py"


def test_django_write_tests_pass_with_the_plans() -> None:
    backend = "sqlite" if postgres_absent_reason() else "all"
    try:
        done = subprocess.run(
            [sys.executable, str(SCRIPT), "--backend", backend],
            capture_output=True,
            text=True,
            timeout=900,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"Django's write test modules did not finish: {exc}")
    output = done.stdout + done.stderr
    if "could not download Django" in output:
        pytest.skip(output.strip().splitlines()[-1])
    runs = re.findall(
        r"^(sqlite|postgres)\s+(\S+)\s+ran\s+(\d+).*?(\d+) others\).*?plan runs (\d+)", output, re.M
    )
    assert len(runs) == (1 if backend == "sqlite" else 2), output
    for _backend, status, ran, others, plan_runs in runs:
        assert status == "OK" and int(ran) > 600 and others == "0", output
        assert int(plan_runs) > 4000, output
    assert done.returncode == 0, output
