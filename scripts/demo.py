"""The main job: lint the bundled example shop and show what to change.

Run from the repository root: ``python scripts/demo.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "example_project"


def banner(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)), flush=True)


def lint() -> int:
    from asyncorm_lint.cli import main

    banner(f"asyncorm-lint check {EXAMPLE.relative_to(ROOT)}")
    return main(["check", str(EXAMPLE.relative_to(ROOT))])


def fix_preview() -> int:
    from asyncorm_lint.cli import main

    banner(f"asyncorm-lint fix --diff {EXAMPLE.relative_to(ROOT)} (writes nothing)")
    return main(["fix", "--diff", str(EXAMPLE.relative_to(ROOT))])


def native_demo() -> int:
    banner("runtime guard and native shim on the example shop (SQLite)")
    # A separate process: the demo configures Django for the example project.
    return subprocess.call([sys.executable, str(EXAMPLE / "runtime_demo.py")])


def run() -> int:
    status = lint()
    print("\nFindings are expected: the example shop carries deliberate async-ORM bugs.")
    if status not in (0, 1):
        return status
    status = fix_preview()
    if status != 0:
        return status
    return native_demo()


if __name__ == "__main__":
    import os

    os.chdir(ROOT)
    sys.exit(run())
