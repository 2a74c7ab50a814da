"""Regressions found by the real-code corpus (tests/corpus/run.py) and the property tests
(test_properties.py), each reduced to the smallest code that showed it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from asyncorm_lint.engine import analyze_source
from asyncorm_lint.fix.command import fix_file
from asyncorm_lint.options import Options


def _codes(source: str) -> Counter[str]:
    return Counter(f.code for f in analyze_source(source, "x.py"))


def _fixed(tmp_path: Path, source: str) -> str:
    """The file after ``asyncorm-lint fix`` (which re-checks its own output): no error."""
    target = tmp_path / "views.py"
    target.write_text(source)
    result = fix_file(target, Options(), None, write=True)
    assert not result.error, result.error
    return target.read_text()


def test_request_user_read_in_a_comprehension_is_resolved_for_the_function(tmp_path):
    """django-allauth (asyncified): the rewrite of ``list(qs.filter(user=request.user))``
    moved the first read into a comprehension, whose scope forgot it: a second DJA501
    appeared, and fix refused its own rewrite."""
    source = (
        "from .models import Email\n\n\n"
        "async def emails(request):\n"
        "    found = list(Email.objects.filter(user=request.user))\n"
        "    return found, Email.objects.can_add(request.user)\n"
    )
    assert _codes(source) == {"DJA202": 1, "DJA501": 1}
    fixed = _fixed(tmp_path, source)
    assert "[obj async for obj in Email.objects.filter(user=request.user)]" in fixed
    assert _codes(fixed) == {"DJA501": 1}
    inner = "async def f(request):\n    a = [u async for u in q(request.user)]\n    request.user\n"
    assert _codes(inner) == {"DJA501": 1}
    own = "async def f(rs):\n    [r.user for r in rs]\n"  # not a request: no finding
    assert _codes(own) == {}


def test_fix_diff_applies_with_form_feeds_and_no_final_newline(tmp_path, capsys):
    """Real files hold form feeds (old Django modules) and may end without a newline: the
    diff split lines at the form feed and glued the last lines together."""
    from asyncorm_lint.cli import main

    target = tmp_path / "views.py"
    target.write_text(
        "from .models import A\n\x0c\n\nasync def v():\n    x = 1\x0c  # ff\n"
        "    return A.objects.get(pk=1)"
    )
    assert main(["fix", "--single-file", "--diff", str(target)]) == 0
    diff = capsys.readouterr().out
    assert diff.endswith(
        "     x = 1\x0c  # ff\n"
        "-    return A.objects.get(pk=1)\n\\ No newline at end of file\n"
        "+    return await A.objects.aget(pk=1)\n\\ No newline at end of file\n"
    )


def _deep(chain: str) -> str:
    head = "from .models import A\n\n\nasync def v(a):\n"
    return f"{head}    s = {chain}\n    return A.objects.get(pk=1), s\n"


def test_deeply_nested_code_is_analyzed_not_an_internal_error(tmp_path):
    """Valid Python nests deeper than the default recursion limit allows the tree walks
    (CPython compiles an 800-term concatenation): DJA000 came out instead of findings."""
    for chain in (" + ".join(["'a'"] * 800), "-" * 1000 + "1", " and ".join(["a"] * 3000)):
        source = _deep(chain)
        compile(source, "x.py", "exec")
        assert _codes(source) == {"DJA101": 1}
    fixed = _fixed(tmp_path, _deep(" + ".join(["'a'"] * 800)))
    assert "return await A.objects.aget(pk=1), s" in fixed


def test_a_long_and_chain_is_read_in_linear_time(monkeypatch):
    """Each ``and`` of a chain re-read the whole chain below it for DJA204: quadratic."""
    from asyncorm_lint.rules.queryset_evaluation import QuerysetEvaluation

    calls: list[object] = []
    real = QuerysetEvaluation.lazy

    def lazy(self, node):  # type: ignore[no-untyped-def]
        calls.append(node)
        return real(self, node)

    monkeypatch.setattr(QuerysetEvaluation, "lazy", lazy)
    n = 2000
    assert _codes(_deep(" and ".join(["a"] * n))) == {"DJA101": 1}
    assert len(calls) < 3 * n


def test_libcst_stack_overflow_does_not_kill_the_process():
    """libcst's native parser recurses on the C stack: a 12,000-term ``and`` chain (flat
    for CPython, nested for libcst) overflowed the main thread's stack: a segfault."""
    import subprocess
    import sys

    code = (
        "from asyncorm_lint.engine import analyze_source\n"
        "chain = ' and '.join(['a'] * 12000)\n"
        "source = 'async def v(a):\\n    return ' + chain + '\\n'\n"
        "print([f.code for f in analyze_source(source, 'x.py')])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_session_operator_fact_is_no_session_method(tmp_path):
    """Property tests: ``request.session.contains()`` matched the fact for ``key in
    session``; the message said "await request.session.await request.session.ahas_key(key)()"
    and the fixer crashed building a name from that expression."""
    source = (
        "async def v(request):\n    return request.session.contains(), request.session.get('k')\n"
    )
    assert _codes(source) == {"DJA505": 1}
    assert "request.session.contains()" not in "".join(
        f.message for f in analyze_source(source, "x.py")
    )
    assert "await request.session.aget('k')" in _fixed(tmp_path, source)


def test_no_await_rewrite_in_a_class_body_inside_an_async_function(tmp_path):
    """Django's test suite (asyncified): a class statement inside an async test method;
    its body runs on the loop (the finding stands) but ``await`` there does not compile,
    and fix refused its own rewrite."""
    source = (
        "from .models import Author\n\n\n"
        "async def test(self):\n"
        "    class Form:\n"
        "        object = Author.objects.get(pk=1)\n"
        "        names = [a.name for a in Author.objects.all()]\n"
        "    return Form, Author.objects.get(pk=2)\n"
    )
    assert _codes(source) == {"DJA101": 2, "DJA201": 1}
    fixed = _fixed(tmp_path, source)
    assert "        object = Author.objects.get(pk=1)\n" in fixed
    assert "        names = [a.name for a in Author.objects.all()]\n" in fixed
    assert "return Form, await Author.objects.aget(pk=2)" in fixed
    compile(fixed, "views.py", "exec")


def test_where_no_large_stack_can_be_had_deep_code_is_one_dja000(monkeypatch):
    """The fallback of the large stack (a platform or memory limit refusing it): the deep
    file costs a DJA000, never the run."""
    from asyncorm_lint import large_stack

    def refuse(size: int = 0) -> int:
        raise ValueError("size not valid")

    monkeypatch.setattr(large_stack.threading, "stack_size", refuse)
    [finding] = analyze_source(_deep(" + ".join(["'a'"] * 800)), "x.py")
    assert finding.code == "DJA000" and "RecursionError" in finding.message
