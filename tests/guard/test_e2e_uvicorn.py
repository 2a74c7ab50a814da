"""End to end: the fixture project served by a real uvicorn process on 127.0.0.1, driven
over HTTP by httpx; the guard's records are read back from the JSON-lines log file that the
project's LOGGING writes. uvicorn runs with ``--limit-max-requests`` and so stops by itself
after the last request; the test waits for that exit.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.guard.conftest import marked_line
from tests.guard.served import (
    free_port,
    project_environment,
    read_records,
    start_uvicorn,
    stop,
    wait_until_listening,
)

REQUESTS = [
    ("correct", "/guard/correct/"),
    ("get", "/guard/get/{pk}/"),
    ("template", "/guard/template/"),
    ("n_plus_one", "/guard/n-plus-one/"),
    ("user", "/guard/user/"),
    ("lazy_fk", "/guard/lazy-fk/{pk}/"),
    ("slow", "/guard/slow/?ms=250"),
]


@pytest.fixture
def project_env(tmp_path: Path) -> dict[str, str]:
    return project_environment(tmp_path)


def test_uvicorn_serves_the_project_and_the_guard_reports(
    project_env: dict[str, str], tmp_path: Path
) -> None:
    seed = json.loads(project_env["SEED"])
    pk = seed["articles"][0]
    port = free_port()
    stderr = (tmp_path / "uvicorn.err").open("w")
    proc = start_uvicorn(project_env, port, stderr,
                         ["--limit-max-requests", str(len(REQUESTS))])
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
        stop(proc)
        stderr.close()

    records = read_records(Path(project_env["GUARD_LOG_FILE"]))
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
