"""Settings of the load test's server: the fixture project's (guard first in MIDDLEWARE, warn
mode from ``GUARD_MODE``, records to the JSON-lines file ``GUARD_LOG_FILE`` at DEBUG, so
every request's summary is written), plus the views of ``tests/guard/load_views.py``.
"""

from guard_project.settings import *  # noqa: F403

ROOT_URLCONF = "tests.guard.load_views"
# tests/ stands in for a third-party package: a sync ORM call in load_views has no user frame
ASYNCORM_GUARD = {**ASYNCORM_GUARD, "ignore_modules": ["tests"]}  # noqa: F405
