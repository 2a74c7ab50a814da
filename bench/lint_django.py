"""Benchmark: lint Django's own source with the DJA plugin against plain flake8, same run.

Copies the installed ``django`` package to a temporary directory (so the summary cache
is written there), then times, each ``--repeat`` times (median reported):

* plain flake8 (flake8's default checks, DJA not selected: the plugin does nothing),
* flake8 + DJA, cold (no summary cache),
* flake8 + DJA, warm (cache from the previous run),
* ``asyncorm-lint check`` cold and warm, against parsing every file with libcst.

Prints the ratios the issue sets bars for: cold <= 2x plain, warm <= 1.2x plain.
Usage: python bench/lint_django.py [--jobs 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django
import libcst


def run(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def parse_all(root: Path) -> float:
    start = time.perf_counter()
    for path in root.rglob("*.py"):
        with contextlib.suppress(Exception):
            libcst.parse_module(path.read_text("utf-8"))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", default="2")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    source = Path(django.__file__).parent
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "django"
        shutil.copytree(source, tree, ignore=shutil.ignore_patterns("__pycache__"))
        (tree / "setup.cfg").write_text("")  # the project root marker
        files = sum(1 for _ in tree.rglob("*.py"))
        lines = sum(p.read_text("utf-8").count("\n") for p in tree.rglob("*.py"))
        print(f"Django {django.get_version()}: {files} files, {lines} lines, flake8 -j{args.jobs}")
        flake8 = [sys.executable, "-m", "flake8", "--isolated", f"-j{args.jobs}", "--exit-zero"]
        default = "--select=E,F,W,C90"
        cache = tree / ".asyncorm_lint_cache"
        plain, cold, warm, cli_cold, cli_warm, parse = [], [], [], [], [], []
        for _ in range(args.repeat):
            plain.append(run([*flake8, default, "."], tree))
            shutil.rmtree(cache, ignore_errors=True)
            cold.append(run([*flake8, f"{default},DJA", "."], tree))
            warm.append(run([*flake8, f"{default},DJA", "."], tree))
            shutil.rmtree(cache, ignore_errors=True)
            cli = [sys.executable, "-m", "asyncorm_lint", "check", "."]
            cli_cold.append(run(cli, tree))
            cli_warm.append(run(cli, tree))
            parse.append(parse_all(tree))
        med = statistics.median
        p, c, w = med(plain), med(cold), med(warm)
        print(f"plain flake8         {p:7.1f} s")
        print(f"flake8 + DJA, cold   {c:7.1f} s   ratio {c / p:4.2f}  (bar <= 2.0)")
        print(f"flake8 + DJA, warm   {w:7.1f} s   ratio {w / p:4.2f}  (bar <= 1.2)")
        pa = med(parse)
        print(f"libcst parse, 1 core {pa:7.1f} s")
        for label, times in (("cold", cli_cold), ("warm", cli_warm)):
            t = med(times)
            print(f"asyncorm-lint, {label}  {t:7.1f} s   ratio to parse {t / pa:4.2f}")


if __name__ == "__main__":
    main()
