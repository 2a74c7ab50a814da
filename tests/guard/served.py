"""The fixture project served by a real uvicorn process on 127.0.0.1: its environment (a
migrated, seeded SQLite file and a JSON-lines guard log), the server's start and stop.

Shared by the end-to-end test and the load test (and ``rss_kb`` by the load test's server).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_DIR / "fixtures" / "guard_project"


def rss_kb(pid: int | str = "self") -> int:
    """Resident set size of a process, from ``/proc/<pid>/status`` (``VmRSS``, in kB)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise LookupError(f"no VmRSS in /proc/{pid}/status")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_listening(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Poll with bare TCP connects (no HTTP request: those would count against a limit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"uvicorn did not listen on port {port} within {timeout}s")


def project_environment(tmp_path: Path) -> dict[str, str]:
    """Environment for the fixture project: migrated and seeded database, log file, warn mode.

    ``SEED`` holds the seed's JSON (article ids, the reader's session key).
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "guard_project.settings",
        "GUARD_PROJECT_DB": str(tmp_path / "db.sqlite3"),
        "GUARD_LOG_FILE": str(tmp_path / "guard.jsonl"),
        "GUARD_MODE": "warn",
        "PYTHONPATH": os.pathsep.join(
            [str(PROJECT_DIR), str(REPO_DIR), os.environ.get("PYTHONPATH", "")]
        ),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=PROJECT_DIR, env=env, check=True)
    seeded = subprocess.run([*manage, "seed_guard"], cwd=PROJECT_DIR, env=env, check=True,
                            capture_output=True, text=True)
    env["SEED"] = seeded.stdout.strip().splitlines()[-1]
    return env


def start_uvicorn(
    env: dict[str, str], port: int, stderr: Any, extra: Sequence[str] = ()
) -> subprocess.Popen:
    """``uvicorn guard_project.asgi:application`` on asyncio's loop (the loop monitor's)."""
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "guard_project.asgi:application",
         "--host", "127.0.0.1", "--port", str(port), "--loop", "asyncio", "--http", "h11",
         "--lifespan", "off", "--no-access-log", *extra],
        cwd=PROJECT_DIR, env=env, stderr=stderr, stdout=subprocess.DEVNULL,
    )


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM (uvicorn's graceful shutdown), SIGKILL after 10 s; the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def read_records(path: Path) -> list[dict[str, Any]]:
    """The guard's records from the JSON-lines log."""
    return [json.loads(line) for line in path.read_text().splitlines()]
