"""Module summaries: imports, classes (models, managers, querysets, model forms) and their fields.

A summary is small, picklable data computed from one module without looking at any
other file; :mod:`asyncorm_lint.index` joins summaries into a project view. The
structure (imports, classes, fields, aliases) is read with Python's ``ast``, which is
several times faster than libcst and is all this needs; function bodies are read by the
libcst walker (:mod:`asyncorm_lint.walker`), which fills ``functions``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .django_api import QUERYSET_BUILDERS
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


def summarize_source(
    source: str | ast.Module, name: str = "", path: str = "", is_package: bool = False
) -> tuple[ModuleSummary, ImportTable]:
    """Summarize the structure of a module; raises SyntaxError when it does not parse."""
    tree = source if isinstance(source, ast.Module) else ast.parse(source)
    imports = ImportTable(name, is_package)
    for node in ast.walk(tree):  # imports anywhere, as one module-wide table
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.add(node)
    summary = ModuleSummary(module=name, path=path)
    for stmt in _top_level(tree.body):
        if isinstance(stmt, ast.ClassDef):
            cls = _summarize_class(stmt, name, imports)
            summary.classes[cls.name] = cls
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            summary.toplevel_functions.add(stmt.name)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                if target.id == "AUTH_USER_MODEL":
                    summary.user_model = _string(stmt.value)
                alias = _alias_of(stmt.value, imports)
                if alias:
                    summary.aliases[target.id] = alias
                function = _callable_of(stmt.value, imports, name)
                if function:
                    summary.callables[target.id] = function
    summary.imports = dict(imports.names)
    return summary, imports


def dotted(node: ast.AST | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _last(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Top-level statements, looking inside ``if``/``try`` blocks (TYPE_CHECKING, fallbacks)."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.If):
            out.extend(_top_level(stmt.body) + _top_level(stmt.orelse))
        elif isinstance(stmt, ast.Try | ast.TryStar):
            out.extend(_top_level(stmt.body))
            for handler in stmt.handlers:
                out.extend(_top_level(handler.body))
            out.extend(_top_level(stmt.orelse) + _top_level(stmt.finalbody))
        else:
            out.append(stmt)
    return out


def _alias_of(value: ast.expr, imports: ImportTable) -> str | None:
    if isinstance(value, ast.Call):
        function = dotted(value.func) or ""
        qualified = imports.qualify(function) or function
        if qualified.endswith("get_user_model"):
            return USER_MODEL
        if qualified.endswith("get_model") and len(value.args) >= 2:
            app, model = (_string(a) for a in value.args[:2])
            if app and model:
                return f"{app}.{model}"
    return None


def _callable_of(value: ast.expr, imports: ImportTable, module: str) -> str | None:
    """``f = helper`` / ``f = functools.partial(helper, ...)`` -> the reference of ``helper``."""
    if isinstance(value, ast.Call) and _last(value.func) == "partial" and value.args:
        value = value.args[0]
    name = dotted(value)
    if name is None or not name.split(".")[-1][:1].islower():
        return None
    return imports.qualify(name) or (f"{module}.{name}" if module else name)


def _string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def reference(node: ast.expr, imports: ImportTable, module: str) -> str | None:
    """A class reference: a qualified dotted name, an ``"app.Model"`` string or AUTH_USER_MODEL."""
    text = _string(node)
    if text is not None:
        return text
    name = dotted(node)
    if name is None:
        return None
    if name.endswith("AUTH_USER_MODEL"):
        return USER_MODEL
    qualified = imports.qualify(name)
    if qualified:
        return qualified
    return f"{module}.{name}" if module else name


def _summarize_class(node: ast.ClassDef, module: str, imports: ImportTable) -> ClassSummary:
    cls = ClassSummary(node.name, f"{module}.{node.name}" if module else node.name)
    for base in node.bases:
        cls.bases.extend(_base_references(base, imports, module))
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            _summarize_method(cls, stmt)
        elif isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            _summarize_meta(cls, stmt)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            if isinstance(stmt.targets[0], ast.Name):
                _summarize_attribute(cls, stmt.targets[0].id, stmt.value, imports, module)
        elif (
            isinstance(stmt, ast.AnnAssign)
            and stmt.value is not None
            and isinstance(stmt.target, ast.Name)
        ):
            _summarize_attribute(cls, stmt.target.id, stmt.value, imports, module)
    return cls


def _base_references(node: ast.expr, imports: ImportTable, module: str) -> list[str]:
    # ``Manager.from_queryset(QS)`` as a base: a manager that also has QS's methods.
    if isinstance(node, ast.Call) and _last(node.func) == "from_queryset":
        refs = ["django.db.models.Manager"]
        if node.args:
            refs += [r for r in [reference(node.args[0], imports, module)] if r]
        return refs
    ref = reference(node, imports, module)
    return [ref] if ref else []


def _summarize_method(cls: ClassSummary, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    asynchronous = isinstance(node, ast.AsyncFunctionDef)
    (cls.async_methods if asynchronous else cls.methods).add(node.name)
    if any(_last(d) in ("property", "cached_property") for d in node.decorator_list):
        cls.properties.add(node.name)
    if not asynchronous and _returns_queryset(node, cls):
        cls.builder_methods.add(node.name)


def _returns_queryset(node: ast.FunctionDef, cls: ClassSummary) -> bool:
    """True when every ``return`` in the method returns a queryset built from ``self``."""
    returns = [n for n in _own_nodes(node) if isinstance(n, ast.Return)]
    return bool(returns) and all(
        r.value is not None and _is_self_queryset(r.value, cls) for r in returns
    )


SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _own_nodes(node: ast.AST) -> list[ast.AST]:
    """Nodes of a function body, not descending into nested functions or classes."""
    out: list[ast.AST] = []
    todo = list(ast.iter_child_nodes(node))
    while todo:
        child = todo.pop()
        out.append(child)
        if not isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
        ):
            todo.extend(ast.iter_child_nodes(child))
    return out


def _is_self_queryset(expr: ast.expr, cls: ClassSummary) -> bool:
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        method = expr.func.attr
        if method not in QUERYSET_BUILDERS and method not in cls.methods:
            return False
        expr = expr.func.value
        if isinstance(expr, ast.Name) and expr.id == "self":
            return True
        if isinstance(expr, ast.Call) and dotted(expr.func) == "super":
            return True
    return False


def _summarize_meta(cls: ClassSummary, meta: ast.ClassDef) -> None:
    for stmt in meta.body:
        if not (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)):
            continue
        key = stmt.targets[0].id
        value = stmt.value
        is_true = isinstance(value, ast.Constant) and value.value is True
        if key == "abstract":
            cls.abstract = is_true
        elif key == "proxy":
            cls.proxy = is_true


def _summarize_attribute(
    cls: ClassSummary, name: str, value: ast.expr, imports: ImportTable, module: str
) -> None:
    if not isinstance(value, ast.Call):
        return
    func = _last(value.func)
    # Managers: ``ArticleManager()``, ``models.Manager()``, ``QS.as_manager()``,
    # ``Manager.from_queryset(QS)()``.
    if func == "as_manager" and isinstance(value.func, ast.Attribute):
        cls.managers[name] = reference(value.func.value, imports, module)
        return
    if isinstance(value.func, ast.Call) and _last(value.func.func) == "from_queryset":
        args = value.func.args
        cls.managers[name] = reference(args[0], imports, module) if args else None
        return
    if func.endswith("Manager") and not value.args:
        cls.managers[name] = reference(value.func, imports, module)
        return
    for suffix, kind in RELATION_SUFFIXES.items():
        if func.endswith(suffix):
            target = _relation_target(value, kind, imports, module)
            related = None
            for keyword in value.keywords:
                if keyword.arg == "related_name":
                    related = _string(keyword.value)
            cls.fields[name] = FieldSummary(name, kind, target, related)
            return
    if func.endswith("Field"):
        cls.fields[name] = FieldSummary(name, "field")


def _relation_target(call: ast.Call, kind: str, imports: ImportTable, module: str) -> str | None:
    if kind == "gfk":
        return None
    if call.args:
        return reference(call.args[0], imports, module)
    for keyword in call.keywords:
        if keyword.arg == "to":
            return reference(keyword.value, imports, module)
    return None
