"""The record sinks: the logger and warn mode's Python warnings."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from runtime_guard import reporting
from runtime_guard.records import Location, Record, RecordKind
from tests.guard.conftest import marked_line


def violation(n: int, location: Location | None) -> Record:
    return Record(RecordKind.VIOLATION, "DJA101", f"DJA101 ... [request GET /articles/{n}/]",
                  location=location)


def test_warnings_keep_no_registry_entry_per_request() -> None:
    """Regression: a record without a user frame was warned with ``warnings.warn``, which
    keeps a ``__warningregistry__`` entry per distinct message (each names its request) in
    the calling module: one more entry for every request served."""
    module = sys.modules[__name__]
    vars(module).pop("__warningregistry__", None)
    views = Location("app/views.py", 7, "detail", True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for n in range(50):
            reporting.warn(violation(n, None))  # guard: unlocated warning
            reporting.warn(violation(n, views))
    assert len(caught) == 100  # one warning per record: each names its own request
    assert getattr(module, "__warningregistry__", {}) == {}
    assert vars(reporting).get("__warningregistry__", {}) == {}
    # no user frame: the caller's line; else the user's line
    here = marked_line("unlocated warning", Path(__file__))
    assert (caught[0].filename, caught[0].lineno) == (__file__, here)
    assert (caught[1].filename, caught[1].lineno) == ("app/views.py", 7)
