"""The real-code corpus (tests/corpus/run.py) and the diff checking it relies on.

The corpus itself downloads packages and takes minutes: it runs only with
``ASYNCORM_CORPUS=1`` (CI runs the script directly). The checks of its diff applier run
always: ``fix --diff`` output on awkward files must apply back exactly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from asyncorm_lint.cli import main
from tests.corpus.run import applies_and_parses, apply, split_diff

RUN = Path(__file__).with_name("run.py")
BAD = "from .models import A\n\n\nasync def v():\n    return A.objects.get(pk=1)\n"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plain.py", BAD.encode()),
        ("crlf.py", BAD.replace("\n", "\r\n").encode()),
        ("no_final_newline.py", BAD.rstrip("\n").encode()),
        ("form_feed.py", BAD.replace("\n\n\nasync", "\n\x0c\n\nasync").encode()),
        ("latin1.py", ("# -*- coding: latin-1 -*-\n" + BAD + "s = 'é'\n").encode("latin-1")),
        ("two_hunks.py", (BAD + "\n" * 12 + BAD.replace("def v", "def w")).encode()),
    ],
)
def test_fix_diff_applies_back_and_parses(tmp_path: Path, capsys, name: str, data: bytes):
    target = tmp_path / name
    target.write_bytes(data)
    assert main(["fix", "--single-file", "--diff", str(target)]) == 0
    diffs = split_diff(capsys.readouterr().out)
    assert list(diffs) == [str(target)]
    assert applies_and_parses(target, diffs[str(target)]) == ""
    main(["fix", "--single-file", str(target)])
    fixed = target.read_bytes()
    expected = fixed.decode("latin-1" if "latin" in name else "utf-8")
    original = data.decode("latin-1" if "latin" in name else "utf-8")
    assert apply(original, diffs[str(target)]) == expected


def test_a_diff_that_does_not_match_is_refused():
    diff = ["@@ -1,1 +1,1 @@\n", "-x = 1\n", "+x = 2\n"]
    assert apply("x = 1\n", diff) == "x = 2\n"
    with pytest.raises(ValueError, match="line 1"):
        apply("y = 1\n", diff)


def test_a_result_that_does_not_parse_is_reported(tmp_path: Path):
    target = tmp_path / "views.py"
    target.write_text("x = 1\n")
    problem = applies_and_parses(target, ["@@ -1,1 +1,1 @@\n", "-x = 1\n", "+x = (\n"])
    assert problem.startswith("libcst cannot parse the result")


@pytest.mark.corpus
@pytest.mark.skipif(
    not os.environ.get("ASYNCORM_CORPUS"),
    reason="the real-code corpus downloads packages and takes minutes: ASYNCORM_CORPUS=1",
)
def test_corpus_has_no_internal_error():
    result = subprocess.run([sys.executable, str(RUN)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
