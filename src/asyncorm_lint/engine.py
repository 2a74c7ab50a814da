"""The analysis core shared by the flake8 plugin, the CLI and the codemod."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

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
) -> Analysis:
    """Run every rule family over a parsed module."""
    options = options or Options()
    is_package = path.endswith("__init__.py")
    summary, imports = summarize_module(module, module_name, path, is_package)
    if index is None:
        index = ModelIndex([summary])
    ctx = ModuleContext(module, summary, imports, index, options, source)
    module.visit(Walker(ctx))
    findings: list[Finding] = []
    if ctx.pending:
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        for item in ctx.pending:
            start = positions[item.node].start
            findings.append(
                Finding(
                    item.code, start.line, start.column, item.message, path, item.fix, item.node
                )
            )
        findings.sort(key=lambda f: (f.line, f.col, f.code))
    return Analysis(module, findings, summary)
