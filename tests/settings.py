"""Django settings shared by every test that needs Django (guard and native shim).

Two real databases: ``default`` is a SQLite file, ``postgres`` the local PostgreSQL
server. Areas add their apps to ``INSTALLED_APPS`` here; the linter's tests never
import Django.
"""

import os
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SQLITE_DIR = Path(
    os.environ.get("ASYNCORM_TEST_SQLITE_DIR") or tempfile.mkdtemp(prefix="asyncorm-")
)

SECRET_KEY = "asyncorm-tests-not-secret"
DEBUG = True
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "guard_app",  # runtime guard: the fixture project's app (fixtures/guard_project)
]
# The runtime guard's fixture project is importable without installing it.
GUARD_PROJECT_DIR = BASE_DIR.parent / "fixtures" / "guard_project"
if str(GUARD_PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(GUARD_PROJECT_DIR))

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(SQLITE_DIR / "default.sqlite3"),
        "TEST": {"NAME": str(SQLITE_DIR / "test_default.sqlite3")},
    },
    "postgres": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("ASYNCORM_PG_NAME", "test"),
        "USER": os.environ.get("ASYNCORM_PG_USER", "postgres"),
        "PASSWORD": os.environ.get("ASYNCORM_PG_PASSWORD", ""),
        "HOST": os.environ.get("ASYNCORM_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("ASYNCORM_PG_PORT", "5432"),
        "TEST": {"NAME": os.environ.get("ASYNCORM_PG_TEST_NAME", f"asyncorm_test_{os.getpid()}")},
    },
}

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]

# Native shim (asyncorm_native): the model zoo of its differential tests.
INSTALLED_APPS += ["tests.native.zoo"]
DATABASE_ROUTERS = [
    *globals().get("DATABASE_ROUTERS", []),
    "tests.native.zoo.routers.PostgresOnlyRouter",
]
