"""``asyncorm-lint fix`` writes each file whole or not at all.

Whatever goes wrong between reading a file and replacing it (an interruption, a
permission, a full disk), the original stays byte for byte, no temporary file is left
behind, the message says what happened, the exit status is non-zero, and the run goes
on with the other files.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from asyncorm_lint.cli import main
from asyncorm_lint.fix import command

BAD = (
    "from .models import Article\n\n\nasync def v(request):\n    return Article.objects.get(pk=1)\n"
)
FIXED = BAD.replace("Article.objects.get(", "await Article.objects.aget(")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Two files to fix: ``a_views.py`` is the one the tests make fail."""
    root = tmp_path / "app"
    root.mkdir()
    (root / "a_views.py").write_text(BAD)
    (root / "b_views.py").write_text(BAD)
    return root


def _run(root: Path) -> int:
    return main(["fix", "--single-file", str(root)])


def _assert_a_failed_b_fixed(root: Path, out: str, reason: str) -> None:
    assert (root / "a_views.py").read_bytes() == BAD.encode()
    assert (root / "b_views.py").read_text() == FIXED
    assert sorted(p.name for p in root.iterdir()) == ["a_views.py", "b_views.py"]
    assert "1 file(s) failed:" in out
    assert f"a_views.py: cannot write: {reason}" in out and "left untouched" in out
    assert "Traceback" not in out


def _failing_for(name: str, real: Any, exc: BaseException) -> Any:
    def fake(*args: Any, **kwargs: Any) -> Any:
        if any(Path(str(a)).name == name for a in args if isinstance(a, str | Path)):
            raise exc
        return real(*args, **kwargs)

    return fake


def test_failure_between_write_and_replace(tree: Path, monkeypatch, capsys):
    failing = _failing_for("a_views.py", os.replace, OSError(errno.EIO, "I/O error"))
    monkeypatch.setattr(command.os, "replace", failing)
    assert _run(tree) == 1
    _assert_a_failed_b_fixed(tree, capsys.readouterr().out, "[Errno 5] I/O error")


def test_interrupt_between_write_and_replace(tree: Path, monkeypatch, capsys):
    monkeypatch.setattr(
        command.os, "replace", _failing_for("a_views.py", os.replace, KeyboardInterrupt())
    )
    assert _run(tree) == 130
    assert (tree / "a_views.py").read_bytes() == BAD.encode()
    assert sorted(p.name for p in tree.iterdir()) == ["a_views.py", "b_views.py"]
    captured = capsys.readouterr()
    assert "interrupted" in captured.err and "Traceback" not in captured.err


class _FullDisk:
    """A file object whose writes fail as on a full disk, after creating the file."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def write(self, data: bytes) -> int:
        self.handle.write(data[: len(data) // 2])  # part of it reached the disk
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)


def test_disk_full_while_writing(tree: Path, monkeypatch, capsys):
    real_fdopen, real_mkstemp = os.fdopen, command.tempfile.mkstemp
    made: list[Path] = []

    def mkstemp(*args: Any, **kwargs: Any) -> Any:
        fd, name = real_mkstemp(*args, **kwargs)
        made.append(Path(name))
        return fd, name

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, *args, **kwargs)
        return _FullDisk(handle) if len(made) == 1 else handle

    monkeypatch.setattr(command.tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(command.os, "fdopen", fdopen)
    assert _run(tree) == 1
    _assert_a_failed_b_fixed(tree, capsys.readouterr().out, "[Errno 28] No space left on device")
    assert made[0].parent == tree and made[0].name.startswith(".a_views.py.")


def test_disk_full_on_sync(tree: Path, monkeypatch, capsys):
    monkeypatch.setattr(
        command.os,
        "fsync",
        _failing_once(os.fsync, OSError(errno.ENOSPC, "No space left on device")),
    )
    assert _run(tree) == 1
    _assert_a_failed_b_fixed(tree, capsys.readouterr().out, "[Errno 28] No space left on device")


def _failing_once(real: Any, exc: BaseException) -> Any:
    calls: list[int] = []

    def fake(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise exc
        return real(*args)

    return fake


def _chmod_is_effective(path: Path) -> bool:
    return not os.access(path, os.W_OK)


def test_read_only_directory(tree: Path, tmp_path: Path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / "b_views.py").write_text(BAD)
    (tree / "b_views.py").unlink()
    tree.chmod(0o555)
    try:
        if not _chmod_is_effective(tree):
            pytest.skip("running as root: chmod does not deny writes (see the simulated test)")
        assert main(["fix", "--single-file", str(tree), str(other)]) == 1
        out = capsys.readouterr().out
        assert (tree / "a_views.py").read_bytes() == BAD.encode()
        assert [p.name for p in tree.iterdir()] == ["a_views.py"]
        assert "a_views.py: cannot write: [Errno 13] Permission denied" in out
        assert (other / "b_views.py").read_text() == FIXED
    finally:
        tree.chmod(0o755)


def test_read_only_directory_simulated(tree: Path, monkeypatch, capsys):
    """What a non-root user gets from a read-only directory, whoever runs the tests."""
    denied = PermissionError(errno.EACCES, "Permission denied", str(tree))
    real = command.tempfile.mkstemp

    def mkstemp(*args: Any, **kwargs: Any) -> Any:
        if str(kwargs.get("prefix", "")).startswith(".a_views.py."):
            raise denied
        return real(*args, **kwargs)

    monkeypatch.setattr(command.tempfile, "mkstemp", mkstemp)
    assert _run(tree) == 1
    _assert_a_failed_b_fixed(tree, capsys.readouterr().out, "[Errno 13] Permission denied")


def test_read_only_file(tree: Path, monkeypatch, capsys):
    target = tree / "a_views.py"
    target.chmod(0o444)
    if not _chmod_is_effective(target):  # root: simulate what any other user gets
        real = os.access
        monkeypatch.setattr(
            command.os,
            "access",
            lambda p, mode: False if Path(p).name == "a_views.py" else real(p, mode),
        )
    assert _run(tree) == 1
    _assert_a_failed_b_fixed(tree, capsys.readouterr().out, "[Errno 13] permission denied")
    assert stat.S_IMODE(target.stat().st_mode) == 0o444


def test_file_changed_on_disk_while_being_fixed(tree: Path, monkeypatch, capsys):
    target = tree / "a_views.py"
    edited = BAD + "# edited meanwhile\n"
    real = command._verify

    def verify_then_edit(old: bytes, new: bytes, path: Path, *args: Any) -> str:
        if path.name == "a_views.py":
            target.write_text(edited)
        return real(old, new, path, *args)

    monkeypatch.setattr(command, "_verify", verify_then_edit)
    assert _run(tree) == 1
    assert target.read_text() == edited
    out = capsys.readouterr().out
    assert "a_views.py: cannot write: it changed on disk while being fixed" in out
    assert (tree / "b_views.py").read_text() == FIXED


def test_symlink_is_kept_and_its_target_rewritten(tmp_path: Path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "views.py").write_text(BAD)
    (real / "views.py").chmod(0o640)
    link = tmp_path / "link.py"
    link.symlink_to(real / "views.py")
    assert main(["fix", "--single-file", str(link)]) == 0
    assert link.is_symlink() and (real / "views.py").read_text() == FIXED
    assert stat.S_IMODE((real / "views.py").stat().st_mode) == 0o640
    assert sorted(p.name for p in real.iterdir()) == ["views.py"]
