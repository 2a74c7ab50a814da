"""pytest plugin (entry point ``pytest11``): fail tests that use the sync ORM on the event loop.

Off unless enabled with ``--asyncorm-guard`` or ``asyncorm_guard = true`` in the ini file.
Each test runs in a guard scope (requests it makes through the middleware or the ASGI
wrapper report into it). A test fails when the guard recorded a violation during its setup
or call, unless it is marked ``@pytest.mark.asyncorm_guard_expect("DJA101", ...)``; the
session ends with a table of what was found, by code and location.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import pytest

from runtime_guard.records import Record, RecordKind
from runtime_guard.settings import MODES, GuardSettings

MARKER = "asyncorm_guard_expect"
FAIL_ON_CHOICES = tuple(
    k.value for k in (RecordKind.VIOLATION, RecordKind.N_PLUS_ONE, RecordKind.BLOCKED)
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("asyncorm-guard", "runtime guard for async Django ORM use")
    group.addoption(
        "--asyncorm-guard",
        action="store_true",
        default=False,
        help="fail tests that run sync ORM code on the event loop",
    )
    group.addoption(
        "--asyncorm-guard-mode",
        choices=MODES,
        default=None,
        help="guard mode for tests (default: ASYNCORM_GUARD['mode'] or warn)",
    )
    parser.addini(
        "asyncorm_guard",
        type="bool",
        default=False,
        help="enable the asyncorm runtime guard (like --asyncorm-guard)",
    )
    parser.addini(
        "asyncorm_guard_mode", default="", help="guard mode for tests: warn, raise or log"
    )
    parser.addini(
        "asyncorm_guard_fail_on",
        type="args",
        default=["violation"],
        help=f"finding kinds that fail a test: {', '.join(FAIL_ON_CHOICES)}",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*codes): the test expects the asyncorm runtime guard to report these codes"
        " (any violation when no code is given)",
    )
    if config.getoption("asyncorm_guard") or config.getini("asyncorm_guard"):
        config.pluginmanager.register(GuardSession(config), "asyncorm_guard_session")


@dataclass
class Finding:
    """A record seen in one test."""

    nodeid: str
    record: Record
    expected: bool


class GuardSession:
    """The enabled plugin: one guard scope per test, a summary at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        mode = config.getoption("asyncorm_guard_mode") or config.getini("asyncorm_guard_mode")
        if mode and mode not in MODES:
            raise pytest.UsageError(f"asyncorm_guard_mode must be one of {MODES}, not {mode!r}")
        self.mode = mode or None
        self.fail_on = set(config.getini("asyncorm_guard_fail_on"))
        unknown = self.fail_on - set(FAIL_ON_CHOICES)
        if unknown:
            raise pytest.UsageError(
                f"asyncorm_guard_fail_on: unknown kind(s) {sorted(unknown)};"
                f" choose from {FAIL_ON_CHOICES}"
            )
        self.settings: GuardSettings | None = None
        self.findings: list[Finding] = []
        self.tests_checked = 0

    def _settings(self) -> GuardSettings:
        if self.settings is None:
            from runtime_guard.install import install
            from runtime_guard.settings import from_django

            self.settings = from_django(mode=self.mode)
            install(self.settings)
        return self.settings

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, Any, Any]:
        from runtime_guard import scope

        guarded = scope.GuardScope(self._settings(), item.nodeid, "test")
        item.stash[_scope_key] = guarded
        scope.set_fallback(guarded)
        return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        result = yield  # the test's own failure propagates untouched
        guarded = item.stash.get(_scope_key, None)
        if guarded is not None:
            self.tests_checked += 1
            problem = self._check(item, guarded.findings())
            if problem:
                pytest.fail(problem, pytrace=False)
        return result

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, Any, Any]:
        from runtime_guard import scope

        try:
            return (yield)
        finally:
            guarded = item.stash.get(_scope_key, None)
            if guarded is not None:
                scope.set_fallback(None)
                guarded.finish()
                expected = item.get_closest_marker(MARKER) is not None
                self.findings.extend(Finding(item.nodeid, r, expected) for r in guarded.findings())

    def _check(self, item: pytest.Item, findings: list[Record]) -> str | None:
        """Why the test fails, or None."""
        failing = [r for r in findings if r.kind.value in self.fail_on]
        marker = item.get_closest_marker(MARKER)
        if marker is None:
            if not failing:
                return None
            lines = "\n".join(
                f"  {r.message} (x{r.count})"
                if r.count > 1 and r.kind is RecordKind.VIOLATION
                else f"  {r.message}"
                for r in failing
            )
            return (
                f"asyncorm runtime guard: {len(failing)} finding(s) in this test:\n{lines}\n"
                f"(mark the test @pytest.mark.{MARKER}(...) if this is what it tests)"
            )
        codes = set(marker.args)
        seen = {r.code for r in findings}
        if not codes:
            if any(r.kind is RecordKind.VIOLATION for r in findings):
                return None
            return "asyncorm runtime guard: the test expected a violation; none was recorded"
        missing = sorted(codes - seen)
        unexpected = [r for r in failing if r.code not in codes]
        if missing:
            recorded = ", ".join(sorted(seen)) or "nothing"
            return f"asyncorm runtime guard: expected {', '.join(missing)}; recorded {recorded}"
        if unexpected:
            lines = "\n".join(f"  {r.message}" for r in unexpected)
            return f"asyncorm runtime guard: unexpected finding(s):\n{lines}"
        return None

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tr = terminalreporter
        tr.section("asyncorm runtime guard")
        if not self.findings:
            tr.write_line(f"no findings in {self.tests_checked} test(s)")
            return
        rows: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
            lambda: {"count": 0, "tests": set(), "expected": 0}
        )
        for f in self.findings:
            key = (f.record.code, f.record.where, f.record.operation)
            row = rows[key]
            row["count"] += f.record.count
            row["tests"].add(f.nodeid)
            row["expected"] += f.record.count if f.expected else 0
        header = ("code", "location", "count", "tests", "expected", "operation")
        table = [header] + [
            (code, where, str(r["count"]), str(len(r["tests"])), str(r["expected"]), op)
            for (code, where, op), r in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1]))
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
        for row in table:
            tr.write_line(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]
            )
        tests = len({f.nodeid for f in self.findings})
        tr.write_line(
            f"{len(self.findings)} finding(s) at {len(rows)} location(s) in {tests} test(s)"
        )


_scope_key = pytest.StashKey[Any]()
