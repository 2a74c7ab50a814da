"""The analysis core shared by the flake8 plugin, the CLI and the codemod."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .call_graph import CallGraph
from .findings import Finding
from .index import ModelIndex
from .options import Options
from .summary import ModuleSummary, summarize_module
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


def may_have_findings(source: str) -> bool:
    """Cheap pre-filter: code without ``async`` has no async context to check."""
    return "async" in source


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
) -> Analysis:
    """Run every rule family over a parsed module; also fills its summary's functions."""
    options = options or Options()
    is_package = path.endswith("__init__.py")
    summary, imports = summarize_module(module, module_name, path, is_package)
    summary.has_async = may_have_findings(source)
    if index is None:
        index = ModelIndex([summary])
    ctx = ModuleContext(
        module, summary, imports, index, options, source, project_graph=graph, root=root
    )
    walker = Walker(ctx)
    module.visit(walker)
    positions: dict[int, tuple[int, int]] = {}
    if ctx.effects:
        positions = _positions(module)
        ctx.resolve_effects({k: v[0] for k, v in positions.items()})
    for rule in walker.rules:
        rule.finish()
    findings: list[Finding] = []
    if ctx.pending:
        positions = positions or _positions(module)
        for item in ctx.pending:
            line, col = positions[id(item.node)]
            findings.append(Finding(item.code, line, col, item.message, path, item.fix, item.node))
        findings.sort(key=lambda f: (f.line, f.col, f.code))
    return Analysis(module, findings, summary)


def _positions(module: cst.Module) -> dict[int, tuple[int, int]]:
    """``id(node) -> (line, column)`` for every node of the module (one codegen pass)."""
    ranges = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {id(node): (r.start.line, r.start.column) for node, r in ranges.items()}
