"""The LibCST codemod, also runnable on its own:
``python -m libcst.tool codemod -x asyncorm_lint.fix.codemod.AsyncOrmCodemod PATH``.

It runs the linter on the module it is given (with the project's model index and call
graph when the file belongs to a project) and rewrites each finding that carries a safe
rewrite. What is not rewritten is recorded with the reason.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand

from ..django_api import LATEST_LTS, parse_version
from ..engine import analyze_module
from ..findings import Finding
from ..options import Options
from ..project import Project, find_root, load_or_none, module_name
from .fixers import FIXERS
from .fixers._edit import FixContext, NotRewritten

PRIMARY_POSITIONS = {cst.Attribute: "value", cst.Subscript: "value", cst.Call: "func"}
_PROJECTS: dict[tuple[Path, Options], Project | None] = {}


@dataclass
class Outcome:
    """What happened to one finding."""

    finding: Finding
    rewritten: bool
    reason: str = ""


class AsyncOrmCodemod(VisitorBasedCodemodCommand):
    DESCRIPTION = (
        "Rewrite sync Django ORM calls in async code to their async forms "
        "(await X.objects.aget(...), async for, await obj.asave(), await alogin(...), "
        "await sync_to_async(helper)(...)) where the rewrite is equivalent."
    )

    def __init__(
        self,
        context: CodemodContext,
        django_version: str | None = None,
        select: str | None = None,
        project: Project | None = None,
        options: Options | None = None,
        load_project: bool = True,
    ) -> None:
        super().__init__(context)
        version = parse_version(django_version) if django_version else LATEST_LTS
        codes = tuple(c.strip().upper() for c in (select or "").split(",") if c.strip())
        self.options = options or Options(django_version=version, select=codes)
        self.project = project
        self.load_project = load_project  # from the file's root, when run by libcst.tool
        self.outcomes: list[Outcome] = []
        self._fixes: dict[int, tuple[Finding, Any]] = {}
        self._parents: list[cst.CSTNode] = []

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--django-version",
            dest="django_version",
            default=None,
            help="target Django version (default: 5.2)",
        )
        arg_parser.add_argument(
            "--select",
            dest="select",
            default=None,
            help="only these code prefixes, e.g. DJA101,DJA3",
        )

    # --- analysis ------------------------------------------------------------------------
    def _project_for(self, filename: str | None) -> Project | None:
        if self.project is not None or not filename or not self.load_project:
            return self.project
        root = find_root(Path(filename))
        key = (root, self.options)
        if key not in _PROJECTS:
            _PROJECTS[key] = load_or_none(root, self.options)
        return _PROJECTS[key]

    def findings(self, tree: cst.Module) -> list[Finding]:
        filename = self.context.filename or "<string>"
        project = self._project_for(self.context.filename)
        if project is not None and project.index is not None:
            name = module_name(Path(filename), project.root)
            analysis = analyze_module(
                tree,
                tree.code,
                filename,
                self.options,
                project.index,
                name,
                project.graph,
                root=project.root,
                summarize=False,
            )
        else:
            analysis = analyze_module(tree, tree.code, filename, self.options)
        return analysis.findings

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self.outcomes = []
        self._fixes = {}
        for finding in self.findings(tree):
            node = _target(finding.fix)
            if node is None:
                self.outcomes.append(Outcome(finding, False, self._manual(finding.code)))
            else:
                self._fixes[id(node)] = (finding, finding.fix)
        if not self._fixes:
            return tree
        return tree.visit(self)

    def _manual(self, code: str) -> str:
        from ..rules import all_docs

        doc = all_docs().get(code)
        if doc is not None and doc.manual:
            return doc.manual
        if doc is not None and doc.autofix:
            version = ".".join(map(str, self.options.django_version))
            return f"no equivalent async form here for Django {version}"
        return "no equivalent rewrite"

    # --- rewriting -----------------------------------------------------------------------
    def on_visit(self, node: cst.CSTNode) -> bool:
        self._parents.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        self._parents.pop()
        result: Any = super().on_leave(original_node, updated_node)
        entry = self._fixes.get(id(original_node))
        if entry is not None and isinstance(result, cst.CSTNode):
            finding, fix = entry
            scope = _scope(self._parents)
            try:
                if scope is not None:
                    raise NotRewritten(f"in {scope}: await and async for are not allowed there")
                result = FIXERS[type(fix)](fix, result, FixContext(self.context, self._parents))
                self.outcomes.append(Outcome(finding, True))
            except NotRewritten as why:
                self.outcomes.append(Outcome(finding, False, str(why)))
        return _parenthesize(result)


def _scope(parents: list[cst.CSTNode]) -> str | None:
    """None when the innermost scope around the node is an async function; else what it
    is. A class body inside an async function runs on the loop (the finding stands) but
    is a scope of its own, where ``await`` is a syntax error."""
    for node in reversed(parents):
        if isinstance(node, cst.ClassDef):
            return f"the body of class {node.name.value}"
        if isinstance(node, cst.Lambda):
            return "a lambda"
        if isinstance(node, cst.FunctionDef):
            return None if node.asynchronous is not None else f"sync function {node.name.value}"
    return "module code"


def _target(fix: Any) -> cst.CSTNode | None:
    if fix is None:
        return None
    return getattr(fix, "call", None) or getattr(fix, "loop", None)


def _parenthesize(node: Any) -> Any:
    """``(await x.aget()).name``: an await in a primary position needs parentheses."""
    field = PRIMARY_POSITIONS.get(type(node))
    if field is None:
        return node
    child = getattr(node, field)
    if isinstance(child, cst.Await) and not child.lpar:
        return node.with_changes(
            **{field: child.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])}
        )
    return node
