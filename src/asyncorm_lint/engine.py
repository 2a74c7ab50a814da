"""The analysis core shared by the flake8 plugin, the CLI and the codemod."""

from __future__ import annotations

import ast
import copy
import dataclasses
import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from .call_graph import CallGraph
from .findings import Finding
from .imports import ImportTable
from .index import ModelIndex
from .large_stack import on_large_stack
from .options import Options
from .positions import node_starts
from .rules import all_codes
from .rules.internal_error import INTERNAL_ERROR
from .summary import ModuleSummary, summarize_source
from .walker import ModuleContext, Walker


class SourceError(Exception):
    """The file could not be parsed: one clear line, no traceback."""

    def __init__(self, path: str, line: int, col: int, reason: str) -> None:
        super().__init__(f"{path}:{line}:{col}: cannot parse: {reason}")
        self.path, self.line, self.col, self.reason = path, line, col, reason


@dataclass
class Analysis:
    """One analyzed module: the parsed tree (nodes are the ones findings point at) and findings."""

    module: cst.Module
    findings: list[Finding]
    summary: ModuleSummary
    error: str = ""  # the internal error that stopped the analysis (then: one DJA000)


def parse(source: str | bytes, path: str = "<string>") -> cst.Module:
    """The libcst module (bytes: decoded as Python does, from the coding cookie or BOM).

    Parsed on a large stack: libcst's native parser recurses on the C stack, and a deep
    enough expression would otherwise kill the process rather than raise.
    """
    try:
        return on_large_stack(cst.parse_module, source)
    except cst.ParserSyntaxError as exc:
        reason = str(exc.message).splitlines()[0] if exc.message else "syntax error"
        raise SourceError(path, exc.raw_line, exc.raw_column + 1, reason) from None
    except Exception as exc:  # RecursionError, ValueError, anything else libcst raises
        raise SourceError(path, 1, 1, f"{type(exc).__name__}: {exc}") from None


ASYNC_CODE = re.compile(
    r"\basync\s+(?:def|for|with)\b|\bawait\b|sync_to_async\b|\b(?:asyncio|types)\.coroutine\b"
)


def may_have_findings(source: str) -> bool:
    """Cheap pre-filter: code without ``async def``/``async for``/``await``, a
    ``sync_to_async`` wrapper (its functions may hand lazy querysets back: DJA603) or a
    generator-based coroutine has no async context to check."""
    return ("async" in source or "coroutine" in source) and ASYNC_CODE.search(source) is not None


def read_structure(
    source: str | ast.Module, module_name: str = "", path: str = "<string>"
) -> tuple[ModuleSummary, ImportTable]:
    """The module's structure summary (imports, classes...), read with Python's ast.

    Code newer than the running Python's grammar (libcst may still parse it) gets an
    empty structure: the analysis then knows less and reports less, never more.
    """
    is_package = path.endswith("__init__.py")
    try:
        summary, imports = summarize_source(source, module_name, path, is_package)
    except (SyntaxError, ValueError, RecursionError):
        summary, imports = ModuleSummary(module=module_name, path=path), ImportTable(module_name)
    if isinstance(source, str):
        summary.has_async = may_have_findings(source)
    return summary, imports


def analyze_source(
    source: str,
    path: str = "<string>",
    options: Options | None = None,
    index: ModelIndex | None = None,
    module_name: str = "",
) -> list[Finding]:
    """Findings for one file's text (raises :class:`SourceError` when it does not parse)."""
    if not may_have_findings(source):
        return []
    return analyze_module(parse(source, path), source, path, options, index, module_name).findings


def analyze_module(
    module: cst.Module,
    source: str,
    path: str = "<string>",
    options: Options | None = None,
    index: ModelIndex | None = None,
    module_name: str = "",
    graph: CallGraph | None = None,
    root: Path | None = None,
    structure: ModuleSummary | None = None,
    summarize: bool = True,
) -> Analysis:
    """Run every rule family over a parsed module; also fills its summary's functions.

    ``structure``: the module's structure summary when the caller already has it.
    ``summarize=False``: only check async code (the call graph already knows this
    module's functions), skipping sync function bodies' rules.

    Never raises: an exception anywhere in the analysis of this module (a bug of ours)
    becomes one DJA000 finding for it, and ``Analysis.error`` says what happened. This is
    the one place the flake8 plugin, ``asyncorm-lint check``, the project summaries and
    the codemod go through for each file.
    """
    options = options or Options()
    run = _Run(module, source, path, options, index, module_name, graph, root, structure)
    try:
        try:
            return run.analysis(summarize)
        except RecursionError:  # deeply nested code, not a bug: again with room to recurse
            run = dataclasses.replace(run, ctx=None)
            return on_large_stack(run.analysis, summarize)
    except Exception as exc:  # a bug of ours must cost one file, never the run
        line, col = _failure_position(module, run.ctx)
        error = describe_internal_error(exc)
        findings = []
        if not options.ignored(INTERNAL_ERROR, path):
            findings.append(internal_error(path, error, line, col))
        empty = ModuleSummary(module=module_name, path=path)
        return Analysis(module, findings, structure or empty, error=error)


@dataclass
class _Run:
    """One analysis of one module (``ctx``: how far it got, for a failure's position)."""

    module: cst.Module
    source: str
    path: str
    options: Options
    index: ModelIndex | None
    module_name: str
    graph: CallGraph | None
    root: Path | None
    structure: ModuleSummary | None
    ctx: ModuleContext | None = None

    def analysis(self, summarize: bool) -> Analysis:
        path, module_name = self.path, self.module_name
        if self.structure is not None:
            summary = copy.copy(self.structure)
            summary.functions = {}
            imports = ImportTable(module_name, path.endswith("__init__.py"))
            imports.names = dict(summary.imports)
        else:
            summary, imports = read_structure(self.source, module_name, path)
        self.ctx = ctx = ModuleContext(
            self.module,
            summary,
            imports,
            self.index or ModelIndex([summary]),
            self.options,
            self.source,
            project_graph=self.graph,
            root=self.root,
            summarize=summarize,
        )
        walker = Walker(ctx)
        walker.run(self.module)
        return Analysis(self.module, _findings(ctx, walker, path), summary)


def internal_error(path: str, error: str, line: int = 1, col: int = 0) -> Finding:
    """The one DJA000 finding of a file whose analysis stopped on ``error``."""
    return Finding(INTERNAL_ERROR, line, col, all_codes()[INTERNAL_ERROR].format(error=error), path)


def _findings(ctx: ModuleContext, walker: Walker, path: str) -> list[Finding]:
    """Finish the rules and place their findings (after the walk)."""
    options = ctx.options
    module = ctx.module
    positions: dict[int, tuple[int, int]] = {}
    if ctx.effects:
        positions = node_starts(module, [e.node for e in ctx.effects])
        ctx.resolve_effects({k: v[0] for k, v in positions.items()})
    for rule in walker.rules:
        rule.finish()
    findings: list[Finding] = []
    if ctx.pending:
        positions = node_starts(module, [p.node for p in ctx.pending])
        for item in ctx.pending:
            if options.ignored_here(item.code, path):
                continue
            line, col = positions[id(item.node)]
            findings.append(Finding(item.code, line, col, item.message, path, item.fix, item.node))
        findings.sort(key=lambda f: (f.line, f.col, f.code))
    return findings


def describe_internal_error(exc: BaseException) -> str:
    """``KeyError: 'x' (asyncorm_lint/walker.py:120)``: the exception, one line of its
    message, and the innermost frame of this package that it went through."""
    where = ""
    package = os.path.dirname(os.path.abspath(__file__))
    for frame in traceback.extract_tb(exc.__traceback__):
        filename = os.path.abspath(frame.filename)
        if filename.startswith(package + os.sep):
            relative = os.path.relpath(filename, os.path.dirname(package))
            where = f"{relative.replace(os.sep, '/')}:{frame.lineno}"
    lines = str(exc).strip().splitlines()
    text = type(exc).__name__
    if lines:
        first = lines[0] if len(lines[0]) <= 160 else lines[0][:157] + "..."
        text += f": {first}"
    return f"{text} ({where})" if where else text


def _failure_position(module: cst.Module, ctx: ModuleContext | None) -> tuple[int, int]:
    """Where the walk was when it failed (the innermost node being read), else 1:0."""
    if ctx is None or not ctx.stack:
        return 1, 0
    node = ctx.stack[-1]
    try:
        return node_starts(module, [node]).get(id(node), (1, 0))
    except Exception:  # the module itself may be what cannot be printed
        return 1, 0
