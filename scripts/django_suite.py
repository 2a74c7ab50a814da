"""Django's own test suites as the judge of the native core: stock and shim, side by side.

    .venv/bin/python scripts/django_suite.py [--mode async|sync|all]
                                             [--backend sqlite|postgres|all]
                                             [--fast] [--verbose] [module ...]

For each mode and backend it runs Django's ``tests/runtests.py`` (the sdist of
the installed Django version, downloaded once by ``django_async_suite.py``)
twice in the same invocation: stock Django, then with the shim installed
right after ``django.setup()``:

* ``async``: ``asyncorm_native.install()``. Django's async test module and the
  modules whose async tests use the a-methods (``ASYNC_MODULES``). Share: the
  a-method calls that ran natively, of all a-method calls.
* ``sync``: ``asyncorm_native.install(sync=True)``. Django's sync ORM methods run
  the same plans on Django's own connection (``sync_routes``), over the ORM
  test modules (``SYNC_MODULES``; ``--fast``: ``SYNC_FAST``). Share: the ORM
  statements a plan ran, of all ORM statements (the rest ran through Django's
  compiler: fallbacks, and ORM code no route covers).

Prints, per module and backend, tests run / passed / failed / skipped on stock
and with the shim, the tests that pass on stock and not with the shim, and the
native share. Exit status 1 when such a test exists, a run did not finish, or
the native share of a shim run is below ``--min-share`` (default 0.95).
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import django_async_suite as downloads

ROOT = Path(__file__).resolve().parent.parent
ASYNC_MODULES = [
    "async",
    "auth_tests",
    "sessions_tests",
    "generic_relations",
    "update_only_fields",
    "basic",
    "signals",
]
SYNC_MODULES = [
    "basic",
    "queries",
    "lookup",
    "aggregation",
    "annotations",
    "expressions",
    "select_related",
    "prefetch_related",
    "many_to_one",
    "many_to_many",
    "one_to_one",
    "model_inheritance",
    "custom_managers",
    "get_or_create",
    "update",
    "delete",
    "bulk_create",
    "db_functions",
    "ordering",
    # the write paths the modules above reach little or not at all
    "save_delete_hooks",
    "force_insert_update",
    "update_only_fields",
    "custom_pk",
    "delete_regress",
    "proxy_models",
    "order_with_respect_to",
    "m2m_through",
    "m2m_signals",
    "generic_relations",
    "signals",
]
#: The subset CI runs through pytest (tests/native/test_django_suite.py).
SYNC_FAST = [
    "basic",
    "lookup",
    "select_related",
    "prefetch_related",
    "many_to_one",
    "many_to_many",
    "one_to_one",
    "get_or_create",
    "update",
    "delete",
    "bulk_create",
]
MARK = "ASYNCORM_DJANGO_SUITE "
BACKENDS = ("sqlite", "postgres")
MODES = ("async", "sync")
OUTCOMES = ("passed", "failed", "skipped")


# --- child: one runtests.py run, recording each test's outcome -----------------------------


def _module_of(test: Any) -> str:
    ident = test.id()
    if "(" in ident:  # an _ErrorHolder: "setUpClass (module.tests.Class)"
        ident = ident[ident.index("(") + 1 : ident.rindex(")")]
    return ident.split(".", 1)[0]


def _record_outcomes(outcomes: dict[str, str], modules: dict[str, Counter[str]]) -> None:
    """Hook unittest's result so that each test's outcome (and the native counts) is kept."""
    import unittest

    from asyncorm_native import reporting

    last: Counter[str] = Counter()

    def counts() -> Counter[str]:
        now: Counter[str] = Counter()
        now.update({f"statements.{k}": v for k, v in reporting.statements.items()})
        now["calls.native"] = sum(reporting._native.values())
        now["calls.fallback"] = sum(reporting._fallback.values())
        return now

    def note(test: Any, outcome: str) -> None:
        nonlocal last
        ident = test.id()
        previous = outcomes.get(ident)
        if previous != "failed":  # a failed subtest fails the test
            outcomes[ident] = outcome
        now = counts()
        modules[_module_of(test)].update(now - last)
        last = now

    result = unittest.TestResult

    def wrap(name: str, outcome: str) -> None:
        original = getattr(result, name)

        def method(self: Any, test: Any, *args: Any) -> Any:
            note(test, outcome)
            return original(self, test, *args)

        setattr(result, name, method)

    wrap("addSuccess", "passed")
    wrap("addFailure", "failed")
    wrap("addError", "failed")
    wrap("addUnexpectedSuccess", "failed")
    wrap("addSkip", "skipped")
    wrap("addExpectedFailure", "passed")
    add_subtest = result.addSubTest

    def add_sub_test(self: Any, test: Any, subtest: Any, err: Any) -> Any:
        if err is not None:
            outcomes[test.id()] = "failed"
        return add_subtest(self, test, subtest, err)

    result.addSubTest = add_sub_test


def child(backend: str, mode: str, shim: bool, modules: list[str]) -> None:
    """In the child process: install the shim after django.setup(), run runtests.py."""
    tests, settings = downloads.enter_tests(backend)

    import django

    import asyncorm_native

    outcomes: dict[str, str] = {}
    per_module: dict[str, Counter[str]] = defaultdict(Counter)
    django_setup = django.setup

    def setup(*args: object, **kwargs: object) -> None:
        django_setup(*args, **kwargs)
        if shim:
            asyncorm_native.install(sync=mode == "sync")

    django.setup = setup
    _record_outcomes(outcomes, per_module)

    def dump() -> None:
        report = asyncorm_native.report()
        data = {
            "outcomes": outcomes,
            "modules": {name: dict(counts) for name, counts in per_module.items()},
            "fallback": report.fallback,
        }
        sys.stdout.write(MARK + json.dumps(data) + "\n")
        sys.stdout.flush()

    import atexit

    atexit.register(dump)
    sys.argv = ["runtests.py", f"--settings={settings}", "--parallel=1", "--noinput", *modules]
    runpy.run_path(str(tests / "runtests.py"), run_name="__main__")


# --- parent: run stock and shim, compare -----------------------------------------------------


def run_child(backend: str, mode: str, shim: bool, modules: list[str], verbose: bool) -> dict:
    command = [sys.executable, __file__, "--child", backend, mode, str(int(shim)), *modules]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    output = done.stdout + done.stderr
    if verbose:
        print(output)
    marks = [line[len(MARK) :] for line in output.splitlines() if line.startswith(MARK)]
    data = json.loads(marks[-1]) if marks else {"outcomes": {}, "modules": {}, "fallback": {}}
    data["seconds"] = time.monotonic() - started
    data["finished"] = bool(marks) and bool(downloads.parse_run(output)["ran"])
    if not data["finished"]:
        print(f"    the {'shim' if shim else 'stock'} run did not finish:\n{output[-3000:]}")
    return data


def tally(outcomes: dict[str, str], module: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for ident, outcome in outcomes.items():
        if ident.split(".", 1)[0] == module or f"({module}." in ident:
            counts[outcome] += 1
    return counts


def share(mode: str, counts: Counter[str] | dict[str, int]) -> tuple[int, int]:
    """(native, total) ORM executions of a shim run, as this mode measures them."""
    if mode == "sync":
        native = counts.get("statements.native", 0)
        return native, native + counts.get("statements.stock", 0)
    native = counts.get("calls.native", 0)
    return native, native + counts.get("calls.fallback", 0)


def compare(backend: str, mode: str, modules: list[str], args: argparse.Namespace) -> bool:
    stock = run_child(backend, mode, False, modules, args.verbose)
    shim = run_child(backend, mode, True, modules, args.verbose)
    regressions = sorted(
        ident
        for ident, outcome in stock["outcomes"].items()
        if outcome == "passed" and shim["outcomes"].get(ident) != "passed"
    )
    total: Counter[str] = Counter()
    unit = "statements" if mode == "sync" else "a-method calls"
    print(
        f"\n{mode} mode, {backend} (stock {stock['seconds']:.0f} s, shim {shim['seconds']:.0f} s)"
    )
    print(
        f"  {'module':<20} {'stock run/pass/fail/skip':>26} {'shim run/pass/fail/skip':>26}"
        f"  native {unit}"
    )
    for module in modules:
        before, after = tally(stock["outcomes"], module), tally(shim["outcomes"], module)
        counts = Counter(shim["modules"].get(module, {}))
        total.update(counts)
        native, all_ = share(mode, counts)
        before_cell, after_cell = (
            "/".join(str(v) for v in (sum(c.values()), *(c[k] for k in OUTCOMES)))
            for c in (before, after)
        )
        ratio = f"{native}/{all_} ({native / all_:.1%})" if all_ else "-"
        print(f"  {module:<20} {before_cell:>26} {after_cell:>26}  {ratio}")
    native, all_ = share(mode, total)
    ratio = native / all_ if all_ else 0.0
    print(f"  native share: {native}/{all_} = {ratio:.1%} (bar {args.min_share:.0%})")
    for method, kinds in sorted(shim["fallback"].items()):
        for kind, count in sorted(kinds.items()):
            print(f"    fallback {method}: {count} x {kind}")
    for ident in regressions:
        outcome = shim["outcomes"].get(ident)
        print(f"    REGRESSION {ident}: passes on stock, {outcome} with the shim")
    good = stock["finished"] and shim["finished"] and not regressions and ratio >= args.min_share
    print(f"  {'OK' if good else 'FAILED'}: {len(regressions)} regressions")
    return good


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="Django test labels (default: per mode)")
    parser.add_argument("--mode", choices=[*MODES, "all"], default="all")
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--fast", action="store_true", help="sync mode: the CI subset")
    parser.add_argument("--min-share", type=float, default=0.95)
    parser.add_argument("--verbose", action="store_true", help="show Django's test output")
    parser.add_argument(
        "--child", nargs=3, metavar=("BACKEND", "MODE", "SHIM"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        backend, mode, shim = args.child
        child(backend, mode, shim == "1", args.modules)
        return 0
    downloads.django_tests_dir()  # download once, before the runs
    modes = MODES if args.mode == "all" else (args.mode,)
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    good = True
    for mode in modes:
        modules = args.modules or (
            ASYNC_MODULES if mode == "async" else SYNC_FAST if args.fast else SYNC_MODULES
        )
        for backend in backends:
            good &= compare(backend, mode, modules, args)
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
