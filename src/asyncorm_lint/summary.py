"""Module summaries: imports, classes (models, managers, querysets, model forms) and their fields.

A summary is small, picklable data computed from one parsed module without looking
at any other file; :mod:`asyncorm_lint.index` joins summaries into a project view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from .django_api import QUERYSET_BUILDERS
from .expressions import dotted_name, last_name
from .imports import ImportTable
from .values import Value

RELATION_SUFFIXES = {
    "ForeignKey": "fk",
    "OneToOneField": "o2o",
    "ManyToManyField": "m2m",
    "GenericForeignKey": "gfk",
    "GenericRelation": "generic_relation",
    "ParentalKey": "fk",  # modelcluster / wagtail
}
USER_MODEL = "AUTH_USER_MODEL"


@dataclass
class FieldSummary:
    """A model field: ``kind`` is fk/o2o/m2m/gfk/generic_relation for relations, else "field"."""

    name: str
    kind: str
    target: str | None = None  # qualified class name, "app.Model", "self" or AUTH_USER_MODEL
    related_name: str | None = None

    @property
    def is_relation(self) -> bool:
        return self.kind != "field"


@dataclass
class ClassSummary:
    """What a class declares, before we know whether it is a model."""

    name: str
    qualname: str
    bases: list[str] = field(default_factory=list)
    fields: dict[str, FieldSummary] = field(default_factory=dict)
    managers: dict[str, str | None] = field(default_factory=dict)  # attr -> manager/qs class
    methods: set[str] = field(default_factory=set)
    async_methods: set[str] = field(default_factory=set)
    properties: set[str] = field(default_factory=set)
    builder_methods: set[str] = field(default_factory=set)  # methods returning a QuerySet
    abstract: bool = False
    proxy: bool = False
    form_model: str | None = None  # ModelForm Meta.model


@dataclass(frozen=True)
class Effect:
    """Sync ORM work a function does itself: the DJA code it would get in async code."""

    code: str
    what: str
    line: int = 0


@dataclass(frozen=True)
class CallSite:
    """A call (or property read) a function makes, before resolution against the index.

    ``kind``: "function" (``target`` is a function reference), "method" (``target`` is
    a class reference, ``name`` the method), "manager" (``target`` a model reference,
    ``manager`` its manager attribute, ``name`` the method) or "attribute" (``target``
    a model reference, ``name`` an attribute that may be a querying property).
    """

    kind: str
    target: str
    name: str = ""
    manager: str = ""


@dataclass
class FunctionSummary:
    """What one function does, for the call graph: its own ORM work and its calls."""

    qualname: str
    name: str
    is_async: bool
    path: str = ""
    wrapped: bool = False  # decorated with sync_to_async: calling it returns an awaitable
    is_property: bool = False
    effects: list[Effect] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    returns: Value | None = None


@dataclass
class ModuleSummary:
    """Everything one module declares that other modules may need."""

    module: str
    path: str = ""
    imports: dict[str, str] = field(default_factory=dict)
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    # Module-level names bound to something we recognise: ``User = get_user_model()``.
    aliases: dict[str, str] = field(default_factory=dict)
    # Top-level function names, and module-level callable aliases (``f = partial(g)``).
    toplevel_functions: set[str] = field(default_factory=set)
    callables: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    has_async: bool = False
    user_model: str | None = None  # a settings module's AUTH_USER_MODEL


def summarize_module(
    module: cst.Module, name: str = "", path: str = "", is_package: bool = False
) -> tuple[ModuleSummary, ImportTable]:
    """Summarize top-level imports and classes of ``module`` (function bodies are not read)."""
    imports = ImportTable(name, is_package)
    summary = ModuleSummary(module=name, path=path)
    for stmt in _top_level(module.body):
        if isinstance(stmt, cst.ClassDef):
            cls = _summarize_class(stmt, name, imports)
            summary.classes[cls.name] = cls
        elif isinstance(stmt, cst.FunctionDef):
            summary.toplevel_functions.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import | cst.ImportFrom):
                    imports.add(small)
                elif isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target = small.targets[0].target
                    if isinstance(target, cst.Name) and target.value == "AUTH_USER_MODEL":
                        summary.user_model = _string(small.value)
                    if isinstance(target, cst.Name):
                        alias = _alias_of(small.value, imports)
                        if alias:
                            summary.aliases[target.value] = alias
                        function = _callable_of(small.value, imports, name)
                        if function:
                            summary.callables[target.value] = function
    summary.imports = dict(imports.names)
    return summary, imports


def _top_level(body: object) -> list[cst.CSTNode]:
    """Top-level statements, looking inside ``if``/``try`` blocks (TYPE_CHECKING, fallbacks)."""
    out: list[cst.CSTNode] = []
    for stmt in body:  # type: ignore[attr-defined]
        if isinstance(stmt, cst.If | cst.Try):
            blocks = [stmt.body]
            if isinstance(stmt, cst.Try):
                blocks += [h.body for h in stmt.handlers]
            elif stmt.orelse is not None:
                blocks.append(stmt.orelse.body)  # type: ignore[union-attr]
            for block in blocks:
                out.extend(_top_level(getattr(block, "body", [])))
        else:
            out.append(stmt)
    return out


def _alias_of(value: cst.BaseExpression, imports: ImportTable) -> str | None:
    if isinstance(value, cst.Call):
        qualified = imports.qualify(dotted_name(value.func)) or dotted_name(value.func)
        if qualified and qualified.endswith("get_user_model"):
            return USER_MODEL
        if qualified and qualified.endswith("get_model") and len(value.args) >= 2:
            app, model = (_string(a.value) for a in value.args[:2])
            if app and model:
                return f"{app}.{model}"
    return None


def _callable_of(value: cst.BaseExpression, imports: ImportTable, module: str) -> str | None:
    """``f = helper`` / ``f = functools.partial(helper, ...)`` -> the reference of ``helper``."""
    if isinstance(value, cst.Call) and last_name(value.func) == "partial" and value.args:
        value = value.args[0].value
    dotted = dotted_name(value)
    if dotted is None or not dotted.split(".")[-1][:1].islower():
        return None
    return imports.qualify(dotted) or (f"{module}.{dotted}" if module else dotted)


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value if isinstance(node.evaluated_value, str) else None
    return None


def reference(node: cst.BaseExpression, imports: ImportTable, module: str) -> str | None:
    """A class reference: a qualified dotted name, an ``"app.Model"`` string or AUTH_USER_MODEL."""
    text = _string(node)
    if text is not None:
        return text
    dotted = dotted_name(node)
    if dotted is None:
        return None
    if dotted.endswith("AUTH_USER_MODEL"):
        return USER_MODEL
    qualified = imports.qualify(dotted)
    if qualified:
        return qualified
    return f"{module}.{dotted}" if module else dotted


def _summarize_class(node: cst.ClassDef, module: str, imports: ImportTable) -> ClassSummary:
    qual = f"{module}.{node.name.value}" if module else node.name.value
    cls = ClassSummary(node.name.value, qual)
    for arg in node.bases:
        cls.bases.extend(_base_references(arg.value, imports, module))
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef):
            _summarize_method(cls, stmt)
        elif isinstance(stmt, cst.ClassDef) and stmt.name.value == "Meta":
            _summarize_meta(cls, stmt, imports, module)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target = small.targets[0].target
                    if isinstance(target, cst.Name):
                        _summarize_attribute(cls, target.value, small.value, imports, module)
                elif (
                    isinstance(small, cst.AnnAssign)
                    and small.value is not None
                    and isinstance(small.target, cst.Name)
                ):
                    _summarize_attribute(cls, small.target.value, small.value, imports, module)
    return cls


def _base_references(node: cst.BaseExpression, imports: ImportTable, module: str) -> list[str]:
    # ``Manager.from_queryset(QS)`` as a base: a manager that also has QS's methods.
    if isinstance(node, cst.Call) and last_name(node.func) == "from_queryset":
        refs = ["django.db.models.Manager"]
        if node.args:
            refs += [r for r in [reference(node.args[0].value, imports, module)] if r]
        return refs
    ref = reference(node, imports, module)
    return [ref] if ref else []


def _summarize_method(cls: ClassSummary, node: cst.FunctionDef) -> None:
    name = node.name.value
    (cls.async_methods if node.asynchronous else cls.methods).add(name)
    for deco in node.decorators:
        deco_name = last_name(deco.decorator)
        if deco_name in ("property", "cached_property"):
            cls.properties.add(name)
    if not node.asynchronous and _returns_queryset(node, cls):
        cls.builder_methods.add(name)


def _returns_queryset(node: cst.FunctionDef, cls: ClassSummary) -> bool:
    """True when every ``return`` in the method returns a queryset built from ``self``."""
    returns = [s for s in _statements(node.body) if isinstance(s, cst.Return)]
    return bool(returns) and all(
        r.value is not None and _is_self_queryset(r.value, cls) for r in returns
    )


def _statements(block: cst.CSTNode) -> list[cst.CSTNode]:
    """Small statements of a suite, looking into nested compound statements."""
    out: list[cst.CSTNode] = []
    body = getattr(block, "body", ())
    for stmt in body if isinstance(body, tuple | list) else ():
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        elif isinstance(stmt, cst.BaseCompoundStatement) and not isinstance(
            stmt, cst.FunctionDef | cst.ClassDef
        ):
            blocks = [c.body for c in stmt.cases] if isinstance(stmt, cst.Match) else [stmt.body]
            for block in blocks:
                out.extend(_statements(block))
            for extra in (getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None)):
                if isinstance(extra, cst.If):
                    out.extend(_statements(cst.IndentedBlock(body=[extra])))
                elif extra is not None:
                    out.extend(_statements(extra.body))
            for handler in getattr(stmt, "handlers", ()):
                out.extend(_statements(handler.body))
    return out


def _is_self_queryset(expr: cst.BaseExpression, cls: ClassSummary) -> bool:
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        method = expr.func.attr.value
        if method not in QUERYSET_BUILDERS and method not in cls.methods:
            return False
        expr = expr.func.value
        if isinstance(expr, cst.Name) and expr.value == "self":
            return True
        if isinstance(expr, cst.Call) and dotted_name(expr.func) == "super":
            return True
    return False


def _summarize_meta(
    cls: ClassSummary, meta: cst.ClassDef, imports: ImportTable, module: str
) -> None:
    body = meta.body.body if isinstance(meta.body, cst.IndentedBlock) else []
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not (
                isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name)
            ):
                continue
            key = small.targets[0].target.value
            if key == "abstract":
                cls.abstract = dotted_name(small.value) == "True"
            elif key == "proxy":
                cls.proxy = dotted_name(small.value) == "True"
            elif key == "model":
                cls.form_model = reference(small.value, imports, module)


def _summarize_attribute(
    cls: ClassSummary, name: str, value: cst.BaseExpression, imports: ImportTable, module: str
) -> None:
    if not isinstance(value, cst.Call):
        return
    func = last_name(value.func) or ""
    # Managers: ``ArticleManager()``, ``models.Manager()``, ``QS.as_manager()``,
    # ``Manager.from_queryset(QS)()``.
    if func == "as_manager" and isinstance(value.func, cst.Attribute):
        cls.managers[name] = reference(value.func.value, imports, module)
        return
    if isinstance(value.func, cst.Call) and last_name(value.func.func) == "from_queryset":
        args = value.func.args
        cls.managers[name] = reference(args[0].value, imports, module) if args else None
        return
    if func.endswith("Manager") and not value.args:
        cls.managers[name] = reference(value.func, imports, module)
        return
    for suffix, kind in RELATION_SUFFIXES.items():
        if func.endswith(suffix):
            target = _relation_target(value, kind, imports, module)
            related = None
            for arg in value.args:
                if arg.keyword is not None and arg.keyword.value == "related_name":
                    related = _string(arg.value)
            cls.fields[name] = FieldSummary(name, kind, target, related)
            return
    if func.endswith("Field"):
        cls.fields[name] = FieldSummary(name, "field")


def _relation_target(call: cst.Call, kind: str, imports: ImportTable, module: str) -> str | None:
    if kind == "gfk":
        return None
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value == "to":
            return reference(arg.value, imports, module)
    return None
