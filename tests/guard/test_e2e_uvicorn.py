"""End to end: the fixture project served by a real uvicorn process on 127.0.0.1, driven
over HTTP by httpx; the guard's records are read back from the JSON-lines log file that the
project's LOGGING writes. uvicorn runs with ``--limit-max-requests`` and so stops by itself
after the last request; the test waits for that exit.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.guard.conftest import PROJECT_DIR, marked_line

REQUESTS = [
    ("correct", "/guard/correct/"),
    ("get", "/guard/get/{pk}/"),
    ("template", "/guard/template/"),
    ("n_plus_one", "/guard/n-plus-one/"),
    ("user", "/guard/user/"),
    ("lazy_fk", "/guard/lazy-fk/{pk}/"),
    ("slow", "/guard/slow/?ms=250"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_listening(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Poll with bare TCP connects (no HTTP request: those would count against the limit)."""
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


@pytest.fixture
def project_env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "guard_project.settings",
        "GUARD_PROJECT_DB": str(tmp_path / "db.sqlite3"),
        "GUARD_LOG_FILE": str(tmp_path / "guard.jsonl"),
        "GUARD_MODE": "warn",
        "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=PROJECT_DIR, env=env, check=True)
    seeded = subprocess.run([*manage, "seed_guard"], cwd=PROJECT_DIR, env=env, check=True,
                            capture_output=True, text=True)
    env["SEED"] = seeded.stdout.strip().splitlines()[-1]
    return env


def test_uvicorn_serves_the_project_and_the_guard_reports(
    project_env: dict[str, str], tmp_path: Path
) -> None:
    seed = json.loads(project_env["SEED"])
    pk = seed["articles"][0]
    port = free_port()
    stderr = (tmp_path / "uvicorn.err").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "guard_project.asgi:application",
         "--host", "127.0.0.1", "--port", str(port), "--loop", "asyncio", "--http", "h11",
         "--lifespan", "off", "--no-access-log", "--limit-max-requests", str(len(REQUESTS))],
        cwd=PROJECT_DIR, env=project_env, stderr=stderr, stdout=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(port, proc)
        headers: dict[str, dict[str, int]] = {}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          cookies={"sessionid": seed["session_key"]}) as client:
            for name, url in REQUESTS:
                response = client.get(url.format(pk=pk), headers={"Connection": "close"})
                assert response.status_code == 200, (name, response.text[:500])
                headers[name] = {
                    k: int(v) for k, v in
                    (p.split("=") for p in response.headers["x-asyncorm-guard"].split())
                }
        assert proc.wait(timeout=30) == 0  # stopped by itself after the last request
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stderr.close()

    records = [json.loads(line) for line in
               Path(project_env["GUARD_LOG_FILE"]).read_text().splitlines()]
    by_kind: dict[str, list[dict]] = {}
    for record in records:
        by_kind.setdefault(record["kind"], []).append(record)

    violations = {(r["request_path"], r["code"], r["line"], r["operation"])
                  for r in by_kind["violation"]}
    assert violations == {
        (f"GET /guard/get/{pk}/", "DJA101", marked_line("DJA101 get"), "QuerySet.get"),
        ("GET /guard/template/", "DJA208", marked_line("DJA208 render"), "template rendering"),
        ("GET /guard/user/", "DJA501", marked_line("DJA501 user"), "request.user"),
        (f"GET /guard/lazy-fk/{pk}/", "DJA401", marked_line("DJA401 author"),
         "lazy FK Article.author"),
    }
    assert all(r["file"].endswith("guard_app/views.py") for r in by_kind["violation"])
    [n_plus_one] = by_kind["n_plus_one"]
    assert n_plus_one["line"] == marked_line("N+1 author")
    assert n_plus_one["count"] == len(seed["articles"])
    assert n_plus_one["replacement"].startswith("select_related('author')")
    [blocked] = by_kind["blocked"]
    assert blocked["request_path"] == "GET /guard/slow/?ms=250"
    # a lower bound, within one watchdog poll (25 ms at the default 100 ms threshold)
    assert blocked["line"] == marked_line("blocked sleep") and blocked["duration_ms"] >= 220
    summaries = {r["request_path"] for r in by_kind["request"]}
    assert len(summaries) == len(REQUESTS)
    hops = [r for r in by_kind["hop"] if r["request_path"] == "GET /guard/n-plus-one/"
            and r["operation"] == "sync_to_async(author_name)"]
    assert len(hops) == len(seed["articles"]) and all(h["queries"] == 1 for h in hops)

    assert headers["correct"]["violations"] == 0 and headers["correct"]["queries"] == 4
    assert headers["get"]["violations"] == 1
    assert headers["n_plus_one"]["n_plus_one"] == 1
    assert headers["slow"]["violations"] == 0
