"""The analysis core shared by the flake8 plugin, the CLI and the codemod."""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from .call_graph import CallGraph
from .findings import Finding
from .imports import ImportTable
from .index import ModelIndex
from .options import Options
from .positions import node_starts
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


def parse(source: str, path: str = "<string>") -> cst.Module:
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        reason = str(exc.message).splitlines()[0] if exc.message else "syntax error"
        raise SourceError(path, exc.raw_line, exc.raw_column + 1, reason) from None
    except (RecursionError, ValueError) as exc:
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
    """
    options = options or Options()
    if structure is not None:
        summary = copy.copy(structure)
        summary.functions = {}
        imports = ImportTable(module_name, path.endswith("__init__.py"))
        imports.names = dict(summary.imports)
    else:
        summary, imports = read_structure(source, module_name, path)
    if index is None:
        index = ModelIndex([summary])
    ctx = ModuleContext(
        module,
        summary,
        imports,
        index,
        options,
        source,
        project_graph=graph,
        root=root,
        summarize=summarize,
    )
    walker = Walker(ctx)
    walker.run(module)
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
    return Analysis(module, findings, summary)
