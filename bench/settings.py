"""Settings for bench/native_reads.py: the local PostgreSQL server, DEBUG off."""

import os

SECRET_KEY = "asyncorm-bench-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "bench.benchapp"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("ASYNCORM_PG_NAME", "test"),
        "USER": os.environ.get("ASYNCORM_PG_USER", "postgres"),
        "PASSWORD": os.environ.get("ASYNCORM_PG_PASSWORD", ""),
        "HOST": os.environ.get("ASYNCORM_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("ASYNCORM_PG_PORT", "5432"),
        "TEST": {"NAME": f"asyncorm_bench_{os.getpid()}"},
    }
}
# bench/native_reads.py sets OPTIONS (binding mode) and ASYNCORM_NATIVE (pool size).
