"""Run Django's own async ORM test modules with the native shim installed.

    .venv/bin/python scripts/django_async_suite.py [--backend sqlite|postgres|all]
                                                   [--mode transaction|committed|all]
                                                   [module ...]

Downloads the source distribution of the installed Django version once
(``pip download --no-binary :all: --no-deps django==<version>``), keeps its
``tests/`` in ``$XDG_CACHE_HOME/asyncorm_native/django-<version>/``, and runs
Django's ``runtests.py`` in a child process per backend and mode, with
``asyncorm_native.install()`` called right after ``django.setup()``.

Modes:

* ``transaction``: Django's own ``TestCase`` semantics. Each async test runs
  inside the test's transaction, so native reads run on that connection
  (the shim's "caller's transaction" route, no thread hop).
* ``committed``: ``TestCase`` runs as on a database without transactions
  (data committed, tables flushed after each test), so native reads go through
  the async pools (psycopg ``AsyncConnectionPool`` / aiosqlite). By default
  only ``async`` runs this way: other modules fail in this mode with Django's
  stock methods too (query-count assertions, flushing tables other apps
  reference); ``--without-shim`` shows such a baseline.

Prints one line per run: tests run, failures, errors, skips, and how many
calls ran natively or fell back (from ``asyncorm_native.report()``). Exit
status is non-zero when any run fails or no call ran natively.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Django's test modules whose async tests use the ORM's a-methods: reads, and the writes of
#: model methods (``async.test_async_model_methods``, ``basic``, ``update_only_fields``) and
#: related managers (``async.test_async_related_managers``, ``generic_relations``).
DEFAULT_MODULES = [
    "async",
    "basic",
    "generic_relations",
    "update_only_fields",
    "sessions_tests",
    "auth_tests",
]
#: Native methods that write (counted apart in the summary line).
WRITE_METHOD_NAMES = (
    "asave",
    "adelete",
    "arefresh_from_db",
    "acreate",
    "aupdate",
    "abulk_create",
    "abulk_update",
    "aget_or_create",
    "aupdate_or_create",
    "aadd",
    "aremove",
    "aclear",
    "aset",
)
#: In committed mode, the modules that run cleanly without transactions even
#: with Django's stock methods (others assert query counts or flush shared tables).
COMMITTED_MODULES = ["async"]
REPORT_MARK = "ASYNCORM_NATIVE_REPORT "
BACKENDS = ("sqlite", "postgres")
MODES = ("transaction", "committed")

POSTGRES_SETTINGS = """
import os
_pg = dict(
    ENGINE="django.db.backends.postgresql",
    NAME=os.environ.get("ASYNCORM_PG_NAME", "test"),
    USER=os.environ.get("ASYNCORM_PG_USER", "postgres"),
    PASSWORD=os.environ.get("ASYNCORM_PG_PASSWORD", ""),
    HOST=os.environ.get("ASYNCORM_PG_HOST", "127.0.0.1"),
    PORT=os.environ.get("ASYNCORM_PG_PORT", "5432"),
)
DATABASES = {
    "default": {**_pg, "TEST": {"NAME": "asyncorm_dj_%(pid)d"}},
    "other": {**_pg, "TEST": {"NAME": "asyncorm_dj_other_%(pid)d"}},
}
SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False
"""


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "asyncorm_native"


def django_tests_dir() -> Path:
    """Django's ``tests/`` for the installed version, downloaded and unpacked on first use."""
    import django

    version = django.get_version()
    target = cache_dir() / f"django-{version}"
    tests = target / "tests"
    if (tests / "runtests.py").exists():
        return tests
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-binary",
            ":all:",
            "--no-deps",
            "--quiet",
            f"django=={version}",
            "-d",
            download,
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        archives = list(Path(download).glob("*.tar.gz"))
        if done.returncode or not archives:
            raise SystemExit(
                f"could not download Django {version}'s source distribution "
                f"(pip exit {done.returncode}):\n{done.stderr.strip()}"
            )
        with tarfile.open(archives[0]) as archive:
            members = [m for m in archive.getmembers() if "/tests/" in m.name]
            archive.extractall(target, members=members, filter="data")
        (unpacked,) = [p for p in target.iterdir() if p.is_dir() and p.name != "tests"]
        unpacked.joinpath("tests").rename(tests)
        unpacked.rmdir()
    return tests


def enter_tests(backend: str) -> tuple[Path, str]:
    """In a child process: make Django's ``tests/`` importable and current, and write the
    backend's settings module; return that directory and the settings module's name."""
    tests = django_tests_dir()
    sys.path[:0] = [str(tests), str(ROOT / "src")]
    os.chdir(tests)
    if backend != "postgres":
        return tests, "test_sqlite"
    settings_dir = Path(tempfile.mkdtemp(prefix="asyncorm-dj-"))
    (settings_dir / "asyncorm_pg_settings.py").write_text(
        textwrap.dedent(POSTGRES_SETTINGS % {"pid": os.getpid()})
    )
    sys.path.insert(0, str(settings_dir))
    return tests, "asyncorm_pg_settings"


def child(backend: str, mode: str, modules: list[str], shim: bool = True) -> None:
    """In the child process: install the shim after django.setup() and run runtests.py."""
    tests, settings = enter_tests(backend)

    import django

    import asyncorm_native

    django_setup = django.setup

    def setup(*args: object, **kwargs: object) -> None:
        django_setup(*args, **kwargs)
        if shim:
            asyncorm_native.install()
        if mode == "committed":
            from django.test import TestCase

            TestCase._databases_support_transactions = classmethod(lambda cls: False)

    django.setup = setup

    def print_report() -> None:
        report = asyncorm_native.report()
        data = {"native": report.native, "fallback": report.fallback, "sessions": report.sessions}
        sys.stdout.write(REPORT_MARK + json.dumps(data) + "\n")
        sys.stdout.flush()

    import atexit

    atexit.register(print_report)
    sys.argv = ["runtests.py", f"--settings={settings}", "--parallel=1", "--noinput", *modules]
    runpy.run_path(str(tests / "runtests.py"), run_name="__main__")


def parse_run(output: str) -> dict[str, object]:
    ran = re.findall(r"^Ran (\d+) tests? in", output, re.MULTILINE)
    result = re.findall(r"^(OK|FAILED)(?: \((.*)\))?$", output, re.MULTILINE)
    counts = {"ran": int(ran[-1]) if ran else 0, "ok": bool(result) and result[-1][0] == "OK"}
    for key in ("failures", "errors", "skipped", "expected failures"):
        found = re.search(rf"(?:^|, ){key}=(\d+)", result[-1][1]) if result else None
        counts[key] = int(found.group(1)) if found else 0
    reports = [
        line[len(REPORT_MARK) :] for line in output.splitlines() if line.startswith(REPORT_MARK)
    ]
    counts["report"] = json.loads(reports[-1]) if reports else {}
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="Django test labels (default: see above)")
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--mode", choices=[*MODES, "all"], default="all")
    parser.add_argument(
        "--without-shim",
        action="store_true",
        help="baseline: the same runs with Django's stock a-methods",
    )
    parser.add_argument("--child", nargs=2, metavar=("BACKEND", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true", help="show Django's test output")
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.modules, shim=not args.without_shim)
        return 0
    modules_for = {
        "transaction": args.modules or DEFAULT_MODULES,
        "committed": args.modules or COMMITTED_MODULES,
    }
    django_tests_dir()  # download once, before the runs
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    modes = MODES if args.mode == "all" else (args.mode,)
    all_good = True
    for mode in modes:
        print(f"{mode} mode: Django's test modules {' '.join(modules_for[mode])}")
    for backend in backends:
        for mode in modes:
            command = [sys.executable, __file__, "--child", backend, mode, *modules_for[mode]]
            if args.without_shim:
                command.append("--without-shim")
            env = {**os.environ, "PYTHONWARNINGS": "ignore"}
            done = subprocess.run(command, capture_output=True, text=True, env=env)
            output = done.stdout + done.stderr
            if args.verbose or done.returncode:
                print(output)
            run = parse_run(output)
            report = run["report"]
            native = sum(report.get("native", {}).values()) if report else 0
            writes = sum(
                count
                for method, count in report.get("native", {}).items()
                if method.rsplit(".", 1)[-1] in WRITE_METHOD_NAMES
            )
            fallback = sum(
                n for kinds in report.get("fallback", {}).values() for n in kinds.values()
            )
            good = done.returncode == 0 and run["ok"] and (native > 0 or args.without_shim)
            all_good &= good
            print(
                f"{backend:<9} {mode:<12} {'OK' if good else 'FAILED':<7} ran {run['ran']:>4}, "
                f"failures {run['failures']}, errors {run['errors']}, skipped {run['skipped']}, "
                f"expected failures {run['expected failures']} | native calls {native} "
                f"(writes {writes}), "
                f"fallbacks {fallback}, connections {report.get('sessions', {})}"
            )
            for method, kinds in sorted(report.get("fallback", {}).items()):
                for kind, count in sorted(kinds.items()):
                    print(f"    fallback {method}: {count} x {kind}")
    return 0 if all_good else 1


if __name__ == "__main__":
    raise SystemExit(main())
