"""Properties of the analysis and the codemod on generated code (hypothesis, hypothesmith).

* The analysis never fails (no DJA000) on any valid Python: hypothesmith's programs from
  the grammar and from libcst's node types, read as they are and "asyncified" (every
  ``def`` made ``async def``, so the rules run on every body).
* Nor on Django-like code built from templates that reach every rule family: async
  views with ORM calls, loops and comprehensions over querysets, relations, auth and
  session access, sync helpers, sync_to_async, nested blocks.
* The codemod's output always parses (and compiles when the input did), is itself
  analyzed without failure, and a second run changes nothing: fix(fix(x)) == fix(x).

The default run is kept short; ``ASYNCORM_HYPOTHESIS_SCALE=10`` runs ten times as many
examples.
"""

from __future__ import annotations

import os
import textwrap

import hypothesmith
import libcst as cst
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from libcst.codemod import CodemodContext

from asyncorm_lint.django_api import QUERYSET_METHODS, SESSION_METHODS, USER_METHODS
from asyncorm_lint.engine import SourceError, analyze_module, parse
from asyncorm_lint.fix.codemod import AsyncOrmCodemod
from asyncorm_lint.options import Options

SCALE = float(os.environ.get("ASYNCORM_HYPOTHESIS_SCALE", "1"))


def examples(n: int) -> settings:
    return settings(
        max_examples=max(1, int(n * SCALE)),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )


# --- the properties ------------------------------------------------------------------------
def assert_analyzed(source: str, path: str = "views.py") -> cst.Module | None:
    """Analyze ``source`` whatever its content (no async pre-filter): never a DJA000."""
    try:
        module = parse(source, path)
    except SourceError:
        event("libcst cannot parse it")
        return None
    analysis = analyze_module(module, source, path)
    assert not analysis.error, f"{analysis.error}\n--- source:\n{source}"
    assert all(f.code != "DJA000" for f in analysis.findings)
    event(f"{len(analysis.findings) // 5 * 5}+ findings")
    return module


def fix(source: str) -> str:
    codemod = AsyncOrmCodemod(
        CodemodContext(filename="views.py"), options=Options(), load_project=False
    )
    return codemod.transform_module(cst.parse_module(source)).code


def compiles(source: str) -> bool:
    try:
        compile(source, "views.py", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError):
        return False


def assert_fix_is_sound(source: str) -> None:
    """fix(x) parses (and compiles when x did), is analyzed cleanly, fix(fix(x)) == fix(x)."""
    once = fix(source)
    cst.parse_module(once)
    if compiles(source):
        assert compiles(once), f"--- fixed, does not compile:\n{once}"
    assert_analyzed(once)
    assert fix(once) == once, f"--- not idempotent; first pass:\n{once}"
    event("rewritten" if once != source else "unchanged")


class _Asyncify(cst.CSTTransformer):
    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.CSTNode:
        return updated.with_changes(asynchronous=cst.Asynchronous())


def asyncified(module: cst.Module) -> str:
    return module.visit(_Asyncify()).code


# --- hypothesmith: any valid Python -----------------------------------------------------
@examples(100)
@given(hypothesmith.from_grammar(auto_target=False))
def test_analysis_never_fails_on_programs_from_the_grammar(source: str):
    module = assert_analyzed(source)
    if module is not None:
        assert_analyzed(asyncified(module))


@examples(40)
@given(hypothesmith.from_node(cst.FunctionDef, auto_target=False))
def test_analysis_never_fails_on_programs_from_libcst_nodes(source: str):
    module = assert_analyzed(source)
    if module is not None:
        code = asyncified(module)
        assert_analyzed(code)
        assert_fix_is_sound(code)


# --- Django-like code from templates ----------------------------------------------------
HEADER = """\
from asgiref.sync import sync_to_async
from django.contrib.auth import authenticate, login
from django.db import models, transaction
from django.shortcuts import get_object_or_404, render
from django.views import View


class Author(models.Model):
    name = models.CharField(max_length=10)


class Article(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    title = models.CharField(max_length=10)
    tags = models.ManyToManyField("Tag")

    @property
    def author_name(self):
        return self.author.name


def helper(pk):
    return Article.objects.get(pk=pk)


"""
MODELS = st.sampled_from(["Article", "Author"])
NAMES = st.sampled_from(["qs", "obj", "items", "user", "x"])
BUILDERS = st.sampled_from(
    [
        "all()",
        "filter(pk=pk)",
        "exclude(title='x')",
        "select_related('author')",
        "prefetch_related('tags')",
        "order_by('-pk')",
        "values('pk')",
        "values_list('pk', flat=True)",
        "only('title')",
        "defer('title')",
        "using('default')",
        "none()",
    ]
)
METHODS = st.sampled_from(sorted({f.name for f in QUERYSET_METHODS}))
ARGS = st.sampled_from(["", "pk=pk", "1", "title='x'", "*args", "**kwargs"])


@st.composite
def querysets(draw: st.DrawFn) -> str:
    base = draw(
        st.sampled_from(
            ["{m}.objects", "{m}._default_manager", "qs", "obj.tags", "self.get_queryset()"]
        )
    ).format(m=draw(MODELS))
    chain = draw(st.lists(BUILDERS, max_size=3))
    text = ".".join([base, *chain])
    if draw(st.booleans()) and chain:
        text += draw(st.sampled_from(["[:5]", "[1:3]", "[0]", "[::2]"]))
    return text


USER_METHOD = st.sampled_from(sorted(f.name for f in USER_METHODS))
SESSION_METHOD = st.sampled_from(sorted(f.name for f in SESSION_METHODS))


@st.composite
def expressions(draw: st.DrawFn, awaits: bool = True) -> str:
    """One expression; ``awaits=False`` for sync code (a nested ``def``, a lambda)."""
    qs = draw(querysets())
    name = draw(NAMES)
    method = draw(METHODS)
    args = draw(ARGS)
    forms = [
        qs,
        f"{qs}.{method}({args})",
        f"list({qs})",
        f"len({qs})",
        f"bool({qs})",
        f"sorted({qs}, key=lambda a: a.pk)",
        f"[a.title for a in {qs}]",
        f"{{a.pk: a for a in {qs} if a}}",
        f"{name} in {qs}",
        f"[*{qs}]",
        f"f'{{{qs}}}'",
        f"{name}.author.name",
        f"{name}.author_name",
        f"{name}.tags.add(1)",
        f"{name}.{draw(st.sampled_from(['save', 'delete', 'refresh_from_db']))}()",
        "request.user",
        "request.user.is_authenticated",
        f"request.user.{draw(USER_METHOD)}('x')",
        f"request.session.{draw(SESSION_METHOD)}()",
        "request.session['k']",
        "authenticate(request, username='u')",
        "login(request, user)",
        "get_object_or_404(Article, pk=pk)",
        "helper(pk)",
        f"sync_to_async({qs})",
        f"render(request, 't.html', {{'items': {qs}}})",
        f"({name} := {qs})",
    ]
    if awaits:
        forms += [
            f"await {qs}.a{method}({args})",
            f"[a async for a in {qs}]",
            f"await {name}.asave()",
            "await sync_to_async(helper)(pk)",
            f"await sync_to_async(lambda: {qs})()",
        ]
    return draw(st.sampled_from(forms))


@st.composite
def statements(draw: st.DrawFn, depth: int = 2, awaits: bool = True) -> str:
    """One statement; blocks nest ``depth`` levels (``awaits``: inside async code)."""

    def block(in_async: bool = awaits) -> str:
        if depth <= 0:
            return "    pass"
        body = draw(st.lists(statements(depth - 1, in_async), min_size=1, max_size=2))
        return textwrap.indent("\n".join(body), "    ")

    expr = draw(expressions(awaits))
    qs = draw(querysets())
    name = draw(NAMES)
    kind = draw(st.integers(0, 15))
    if kind == 0:
        return f"{name} = {expr}"
    if kind == 1:
        return f"for {name} in {qs}:\n{block()}"
    if kind == 2 and awaits:
        return f"async for {name} in {qs}:\n{block()}"
    if kind == 3:
        return f"if {expr}:\n{block()}\nelse:\n{block()}"
    if kind == 4:
        return f"with transaction.atomic():\n{block()}"
    if kind == 5:
        return f"try:\n{block()}\nexcept Article.DoesNotExist:\n{block()}"
    if kind == 6:
        return f"def inner({name}):\n{block(False)}\n{name} = inner(1)"
    if kind == 7:
        return f"while {qs}:\n{block()}\n    break"
    if kind == 8:
        return f"{name}, other = {qs}"
    if kind == 9:
        return f"return {expr}"
    if kind == 10 and awaits:
        return f"{name} = await {draw(MODELS)}.objects.aget(pk=pk)"
    if kind == 11:
        return f"async def nested({name}):\n{block(True)}"
    if kind == 12:
        return f"{name} = lambda: {draw(expressions(awaits=False))}"
    if kind == 13:  # a class body: runs where it stands, but a scope without await
        return f"class Form:\n    {name} = {draw(expressions(awaits=False))}\n{block(False)}"
    return expr


@st.composite
def django_modules(draw: st.DrawFn) -> str:
    """The header's models and helper, then one or two async views (functions or
    class-based), each a few statements."""
    parts = [HEADER]
    for i in range(draw(st.integers(1, 2))):
        lines = draw(st.lists(statements(), min_size=1, max_size=4))
        body = textwrap.indent("\n".join(lines), "    ")
        if draw(st.booleans()):
            parts.append(f"async def view{i}(request, pk, *args, **kwargs):\n{body}\n\n")
        else:
            method = f"async def get(self, request, pk, *args, **kwargs):\n{body}"
            parts.append(f"class View{i}(View):\n{textwrap.indent(method, '    ')}\n\n")
    return "\n".join(parts)


@examples(120)
@given(django_modules())
def test_analysis_never_fails_on_django_like_code(source: str):
    assume(compiles(source))
    assert_analyzed(source)


@examples(100)
@given(django_modules())
def test_fix_output_parses_and_is_idempotent_on_django_like_code(source: str):
    assume(compiles(source))
    assert_fix_is_sound(source)
