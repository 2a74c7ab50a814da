"""Run Django's own sync test modules for writes, the write plans in place of Django's methods.

    .venv/bin/python scripts/django_sync_plans_suite.py [--backend sqlite|postgres|all] [module ...]

Django's async test modules only reach a few write paths. Its sync test modules
(``save_delete_hooks``, ``delete``, ``bulk_create``, ``get_or_create``,
``many_to_many``, ``m2m_through``...) reach all of them. This script runs them
with Django's sync write methods (``Model.save()``/``delete()``/``refresh_from_db()``,
``QuerySet.create()``/``update()``/``delete()``/``bulk_create()``/``bulk_update()``/
``get_or_create()``/``update_or_create()``, and the related managers' writes)
replaced by the shim's write plans run on the *sync driver*, on the test's own
connection and transaction. The plans are the ones the native a-methods run;
only the driver differs. A call whose sync code the plan mirrors is
overridden below the patched method (a subclass's ``save_base()``...) runs
Django's method, as the native a-methods fall back.

Prints one line per backend: tests run, failures, errors, and how many calls
ran a plan. Three tests fail because of the harness itself (``HARNESS_ARTIFACTS``);
any other failure fails the run. Uses ``django_async_suite.py``'s download of
Django's tests.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import runpy
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import django_async_suite as suite

MODULES = [
    "basic",
    "save_delete_hooks",
    "force_insert_update",
    "update_only_fields",
    "custom_pk",
    "delete",
    "delete_regress",
    "update",
    "bulk_create",
    "get_or_create",
    "model_inheritance",
    "proxy_models",
    "order_with_respect_to",
    "many_to_one",
    "many_to_many",
    "m2m_through",
    "m2m_signals",
    "generic_relations",
    "signals",
]
MARK = "ASYNCORM_SYNC_PLANS "
#: Tests that fail because of this harness, not of the plans: the wrapper put around the
#: sync method adds a stack frame (the deprecation warning is attributed to this file) or
#: has another signature (the TypeError names the wrapper). The native a-methods keep
#: Django's signatures (tests/native/test_setup.py).
HARNESS_ARTIFACTS = {
    "basic.tests.ModelInstanceCreationTests.test_save_deprecation",
    "update_only_fields.tests.UpdateOnlyFieldsTests.test_empty_update_fields_positional_save",
    "basic.tests.ModelRefreshTests.test_unknown_kwarg",
}


def install_sync_plans(counts: Counter[str]) -> None:
    """Replace Django's sync write methods by their plans on the sync driver."""
    from django.db.models import Model, QuerySet
    from django.db.models.fields import related_descriptors

    from asyncorm_native import writes
    from asyncorm_native.drivers import django_sync
    from asyncorm_native.plans import (
        bulk,
        delete,
        intercept,
        lookup_or_create,
        refresh,
        related,
        save,
    )

    below_save = tuple(name for name in save.MIRRORED if name != "save")

    def patch(cls: type, name: str, plan: Any, runs_natively: Any = None) -> None:
        original = cls.__dict__[name]

        @functools.wraps(original)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            if intercept._interceptor.get() is not None:
                # A plan runs Django's own method up to its SQL (update() in the update plan).
                return original(self, *args, **kwargs)
            if runs_natively is not None and not runs_natively(self, *args, **kwargs):
                return original(self, *args, **kwargs)
            counts[f"{cls.__name__}.{name}"] += 1
            return django_sync.run(plan(self, *args, **kwargs))

        setattr(cls, name, method)

    def model_saves(obj: Any) -> bool:
        return (
            writes._instance_block(obj, below_save) is None
            and writes._base_queryset_block(type(obj)) is None
        )

    def qs_plain(names: tuple[str, ...]) -> Any:
        def check(qs: Any, *args: Any, **kwargs: Any) -> bool:
            return (
                writes._override(type(qs), QuerySet, names) is None
                and writes._model_block(qs.model, save.MIRRORED) is None
            )

        return check

    patch(
        Model,
        "save",
        lambda obj, force_insert=False, force_update=False, using=None, update_fields=None: (
            save.save(obj, force_insert, force_update, using, update_fields)
        ),
        lambda obj, *args, **kwargs: not args and model_saves(obj),
    )
    patch(
        Model,
        "delete",
        lambda obj, using=None, keep_parents=False: delete.delete_instance(
            obj, using, keep_parents
        ),
    )
    patch(
        Model,
        "refresh_from_db",
        lambda obj, using=None, fields=None, from_queryset=None: refresh.refresh_from_db(
            obj, using, fields, from_queryset
        ),
    )
    patch(QuerySet, "create", lambda qs, **kwargs: save.create(qs, kwargs), qs_plain(()))
    patch(QuerySet, "update", lambda qs, **kwargs: delete.update(qs, kwargs))
    patch(QuerySet, "delete", lambda qs: delete.delete_queryset(qs))
    patch(
        QuerySet,
        "bulk_create",
        lambda qs, objs, batch_size=None, ignore_conflicts=False, update_conflicts=False,
        update_fields=None, unique_fields=None: bulk.bulk_create(
            qs, objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields
        ),
        lambda qs, *a, **k: writes._override(
            type(qs), QuerySet, ("_batched_insert", "_insert", "_prepare_for_bulk_create")
        )
        is None,
    )
    patch(
        QuerySet,
        "bulk_update",
        lambda qs, objs, fields, batch_size=None: bulk.bulk_update(qs, objs, fields, batch_size),
        lambda qs, *a, **k: writes._override(type(qs), QuerySet, ("update", "filter")) is None,
    )
    patch(
        QuerySet,
        "get_or_create",
        lambda qs, defaults=None, **kwargs: lookup_or_create.get_or_create(qs, defaults, kwargs),
        qs_plain(("get", "create", "filter")),
    )
    patch(
        QuerySet,
        "update_or_create",
        lambda qs, defaults=None, create_defaults=None, **kwargs: (
            lookup_or_create.update_or_create(qs, defaults, create_defaults, kwargs)
        ),
        qs_plain(("get_or_create", "get", "create", "filter", "select_for_update")),
    )

    fk = {
        "add": lambda cls: lambda m, *objs, bulk=True: related.fk_add(cls, m, objs, bulk),
        "create": lambda cls: lambda m, **kw: related.fk_create(cls, m, kw),
        "get_or_create": lambda cls: lambda m, **kw: related.fk_get_or_create(cls, m, kw),
        "update_or_create": lambda cls: lambda m, **kw: related.fk_update_or_create(cls, m, kw),
        "remove": lambda cls: lambda m, *objs, bulk=True: related.fk_remove(cls, m, objs, bulk),
        "clear": lambda cls: lambda m, *, bulk=True: related.fk_clear(cls, m, bulk),
        "set": lambda cls: lambda m, objs, *, bulk=True, clear=False: related.fk_set(
            cls, m, objs, bulk, clear
        ),
    }
    m2m = {
        "add": lambda cls: lambda m, *objs, through_defaults=None: related.m2m_add(
            cls, m, objs, through_defaults
        ),
        "remove": lambda cls: lambda m, *objs: related.m2m_remove(cls, m, objs),
        "clear": lambda cls: lambda m: related.m2m_clear(cls, m),
        "set": lambda cls: lambda m, objs, *, clear=False, through_defaults=None: (
            related.m2m_set(cls, m, objs, clear, through_defaults)
        ),
        "create": lambda cls: lambda m, *, through_defaults=None, **kw: related.m2m_create(
            cls, m, through_defaults, kw
        ),
        "get_or_create": lambda cls: lambda m, *, through_defaults=None, **kw: (
            related.m2m_get_or_create(cls, m, through_defaults, kw, False)
        ),
        "update_or_create": lambda cls: lambda m, *, through_defaults=None, **kw: (
            related.m2m_get_or_create(cls, m, through_defaults, kw, True)
        ),
    }
    generic = {
        "add": lambda cls: lambda m, *objs, bulk=True: related.generic_add(cls, m, objs, bulk),
        "remove": lambda cls: lambda m, *objs, bulk=True: related.generic_remove(
            cls, m, objs, bulk
        ),
        "clear": lambda cls: lambda m, *, bulk=True: related.generic_clear(cls, m, bulk),
        "set": lambda cls: lambda m, objs, *, bulk=True, clear=False: related.generic_set(
            cls, m, objs, bulk, clear
        ),
        "create": lambda cls: lambda m, **kw: related.generic_create(cls, m, kw),
        "get_or_create": lambda cls: lambda m, **kw: related.generic_get_or_create(
            cls, m, kw, False
        ),
        "update_or_create": lambda cls: lambda m, **kw: related.generic_get_or_create(
            cls, m, kw, True
        ),
    }

    def wrap_factory(module: Any, name: str, plans: dict[str, Any]) -> None:
        factory = getattr(module, name)

        @functools.wraps(factory)
        def create_manager(*args: Any, **kwargs: Any) -> type:
            cls = factory(*args, **kwargs)
            if "_sync_plans" not in cls.__dict__:
                cls._sync_plans = True
                for method, make in plans.items():
                    if method in cls.__dict__:
                        patch(cls, method, make(cls))
            return cls

        setattr(module, name, create_manager)

    from django.contrib.contenttypes import fields as generic_fields

    wrap_factory(related_descriptors, "create_reverse_many_to_one_manager", fk)
    wrap_factory(related_descriptors, "create_forward_many_to_many_manager", m2m)
    wrap_factory(generic_fields, "create_generic_related_manager", generic)


def child(backend: str, modules: list[str]) -> None:
    tests = suite.django_tests_dir()
    sys.path[:0] = [str(tests), str(suite.ROOT / "src")]
    os.chdir(tests)
    settings = "test_sqlite"
    if backend == "postgres":
        settings_dir = Path(tempfile.mkdtemp(prefix="asyncorm-dj-"))
        (settings_dir / "asyncorm_pg_settings.py").write_text(
            textwrap.dedent(suite.POSTGRES_SETTINGS % {"pid": os.getpid()})
        )
        sys.path.insert(0, str(settings_dir))
        settings = "asyncorm_pg_settings"

    import django

    counts: Counter[str] = Counter()
    django_setup = django.setup

    def setup(*args: object, **kwargs: object) -> None:
        django_setup(*args, **kwargs)
        install_sync_plans(counts)

    django.setup = setup

    import atexit

    atexit.register(lambda: sys.stdout.write(MARK + json.dumps(dict(counts)) + "\n"))
    sys.argv = ["runtests.py", f"--settings={settings}", "--parallel=1", "--noinput", *modules]
    runpy.run_path(str(tests / "runtests.py"), run_name="__main__")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="Django test labels (default: see MODULES)")
    parser.add_argument("--backend", choices=[*suite.BACKENDS, "all"], default="all")
    parser.add_argument("--child", metavar="BACKEND", help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true", help="show Django's test output")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.modules)
        return 0
    modules = args.modules or MODULES
    suite.django_tests_dir()
    print(f"Django's test modules: {' '.join(modules)}")
    backends = suite.BACKENDS if args.backend == "all" else (args.backend,)
    all_good = True
    for backend in backends:
        command = [sys.executable, __file__, "--child", backend, *modules]
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        output = done.stdout + done.stderr
        if args.verbose or done.returncode:
            print(output)
        run = suite.parse_run(output)
        counts = [line[len(MARK) :] for line in output.splitlines() if line.startswith(MARK)]
        planned = json.loads(counts[-1]) if counts else {}
        failed = set(re.findall(r"^(?:FAIL|ERROR): \w+ \(([\w.]+)\)", output, re.MULTILINE))
        artifacts = failed & HARNESS_ARTIFACTS
        real = failed - HARNESS_ARTIFACTS
        complete = run["ran"] > 0 and (run["ok"] or run["failures"] + run["errors"] == len(failed))
        good = complete and not real and sum(planned.values()) > 0
        all_good &= good
        print(
            f"{backend:<9} {'OK' if good else 'FAILED':<7} ran {run['ran']:>4}, "
            f"failures {run['failures']}, errors {run['errors']} "
            f"({len(artifacts)} harness artifacts, {len(real)} others), "
            f"skipped {run['skipped']}, expected failures {run['expected failures']} "
            f"| plan runs {sum(planned.values())}"
        )
        for test in sorted(real):
            print(f"    FAILED {test}")
        for method, count in sorted(planned.items()):
            print(f"    {method}: {count}")
    return 0 if all_good else 1


if __name__ == "__main__":
    raise SystemExit(main())
