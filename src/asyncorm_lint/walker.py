"""One pass over a module: keep frames and variable values in source order, and hand each
node inside async code to the rule families that handle its type."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst

from .call_arguments import NOT_A_QUERYSET, CallArguments
from .call_graph import CallGraph
from .expressions import dotted_name, last_name
from .imports import ImportTable
from .index import ModelIndex
from .inference import Inferrer
from .options import Options
from .rules import all_rules
from .scope import ClassFrame, Frame
from .summary import Effect, FunctionSummary, ModuleSummary
from .values import V, Value

EVIDENCE = re.compile(
    r"\b([A-Z]\w*)\.(?:objects|DoesNotExist|MultipleObjectsReturned|_default_manager)\b"
)
NON_DJANGO_WEB = ("starlette", "fastapi", "aiohttp", "sanic", "quart", "litestar", "tornado")
DRF_VIEW_SUFFIXES = ("APIView", "ViewSet", "ViewSetMixin")
COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
WRAPPER_NAMES = frozenset({"sync_to_async", "database_sync_to_async", "SyncToAsync", "to_thread"})
# ``sync_to_async(helper)``, ``database_sync_to_async(self.helper)``: the function names a
# module hands to a wrapper, whose bodies then run in a worker thread.
WRAPPED_TARGET = r"\b(?:{names})\(\s*(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)\s*[,)]"

#: Decorators that make a generator function a coroutine run by the event loop.
GENERATOR_COROUTINES = frozenset({"asyncio.coroutine", "types.coroutine"})


@dataclass
class Pending:
    """A finding before positions are known."""

    code: str
    node: cst.CSTNode
    message: str
    fix: object = None


@dataclass
class PendingEffect:
    """Sync ORM work found inside a sync function, before its line is known."""

    function: FunctionSummary
    code: str
    what: str
    node: cst.CSTNode


@dataclass
class ModuleContext:
    """Everything rules and inference may ask about the module being read."""

    module: cst.Module
    summary: ModuleSummary
    imports: ImportTable
    index: ModelIndex
    options: Options
    source: str = ""
    evidence: set[str] = field(default_factory=set)
    frame: Frame = field(default_factory=lambda: Frame("<module>", False, None))
    stack: list[cst.CSTNode] = field(default_factory=list)
    claimed: set[int] = field(default_factory=set)
    pending: list[Pending] = field(default_factory=list)
    effects: list[PendingEffect] = field(default_factory=list)
    django_requests: bool = True
    project_graph: CallGraph | None = None
    root: Path | None = None
    summarize: bool = True  # also record sync functions' effects and calls

    def __post_init__(self) -> None:
        self.inferrer = Inferrer(self)
        self.call_arguments = CallArguments(self.source)
        self.evidence = set(EVIDENCE.findall(self.source))
        names = WRAPPER_NAMES | {w.rsplit(".", 1)[-1] for w in self.options.wrappers}
        pattern = WRAPPED_TARGET.format(names="|".join(sorted(map(re.escape, names))))
        self.thread_targets = frozenset(re.findall(pattern, self.source))
        self.django_requests = not any(
            v.split(".")[0] in NON_DJANGO_WEB for v in self.imports.names.values()
        )

    # --- questions rules ask -------------------------------------------------------------
    def infer(self, node: cst.BaseExpression | None) -> Value | None:
        return self.inferrer.infer(node)

    def qualify(self, node: cst.BaseExpression) -> str | None:
        dotted = dotted_name(node)
        return self.imports.qualify(dotted) or dotted

    def is_wrapper(self, node: cst.BaseExpression) -> bool:
        """True for ``sync_to_async``-like callables that run their argument off the loop."""
        qualified = self.qualify(node)
        if qualified in self.options.wrappers:
            return True
        name = last_name(node)
        return name in WRAPPER_NAMES or any(
            w.rsplit(".", 1)[-1] == name for w in self.options.wrappers
        )

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The parent of ``node``, which must be on the current path."""
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i] is node:
                return self.stack[i - 1]
        return None

    def is_awaited(self, node: cst.CSTNode) -> bool:
        return isinstance(self.parent(node), cst.Await)

    def claim(self, node: cst.CSTNode) -> None:
        """Keep other rules quiet about ``node``: one finding per problem."""
        self.claimed.add(id(node))

    def report(
        self,
        code: str,
        node: cst.CSTNode,
        message: str,
        fix: object,
        what: str,
        anywhere: bool = False,
    ) -> None:
        """A finding in async code (or ``anywhere``: a worker thread's function, a class
        statement); otherwise, in a sync function, an effect for its summary."""
        if id(node) in self.claimed:
            return
        self.claimed.add(id(node))
        if self.frame.is_async or anywhere:
            if self.options.enabled(code):
                self.pending.append(Pending(code, node, message, fix))
        elif self.frame.summary is not None:
            self.effects.append(PendingEffect(self.frame.summary, code, what, node))

    def graph(self) -> CallGraph:
        """The call graph: the project's when analyzing a project, else this module's own."""
        if self.project_graph is None:
            self.project_graph = CallGraph(self.index, [self.summary])
        return self.project_graph

    def returned_by(self, ref: str) -> Value | None:
        """What a call of function ``ref`` returns, when its summary knows."""
        if self.project_graph is not None:
            value = self.project_graph.returns(ref)
        else:
            function = self.summary.functions.get(ref)
            value = function.returns if function is not None else None
        return value if isinstance(value, Value) else None

    def display_path(self, path: str) -> str:
        """A summary's path as the user should read it: relative to the project root."""
        if not path:
            return "<unknown>"
        if self.root is not None:
            try:
                return os.path.relpath(path, self.root)
            except ValueError:
                return path
        return path

    def resolve_effects(self, lines: dict[int, int]) -> None:
        """Give each recorded effect its line (``lines`` maps node ids to lines)."""
        for item in self.effects:
            item.function.effects.append(Effect(item.code, item.what, lines.get(id(item.node), 0)))


# Fields that never hold code the analysis reads: whitespace, punctuation, names.
_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "lbrace",
        "rbrace",
        "lbracket",
        "rbracket",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "comma",
        "semicolon",
        "equal",
        "colon",
        "dot",
        "operator",
        "newline",
        "trailing_whitespace",
        "first_line",
        "empty_lines",
        "asynchronous",
        "name",
        "attr",
        "keyword",
        "relative",
    }
)  # plus every field named whitespace*
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(node: cst.CSTNode) -> tuple[str, ...]:
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(node)  # type: ignore[arg-type]
            if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
        )
        _FIELDS[kind] = names
    return names


class Walker(cst.CSTVisitor):
    """Reads a module in source order, updating frames, and dispatches to rules.

    ``run`` walks the tree itself (node fields in order, skipping whitespace and
    punctuation): a read-only pass several times faster than ``Module.visit``, which
    rebuilds every node.
    """

    def run(self, module: cst.Module) -> None:
        self._walk(module)

    def _walk(self, node: cst.CSTNode) -> None:
        self.on_visit(node)
        is_for = type(node) is cst.For
        for name in _fields(node):
            value = getattr(node, name)
            if is_for and name == "body":
                self.on_visit_attribute(node, "body")
            if isinstance(value, cst.CSTNode):
                self._walk(value)
            elif type(value) is tuple or type(value) is list:
                for child in value:
                    if isinstance(child, cst.CSTNode):
                        self._walk(child)
        self.on_leave(node)

    def __init__(self, ctx: ModuleContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.rules = all_rules(ctx)
        self.handlers: dict[str, list[Callable[[Any], None]]] = {}
        self.sync_handlers: dict[str, list[Callable[[Any], None]]] = {}
        self.thread_handlers: dict[str, list[Callable[[Any], None]]] = {}
        for rule in self.rules:
            for type_name, handler in rule.handlers().items():
                self.handlers.setdefault(type_name, []).append(handler)
                if rule.sync_frames:
                    self.sync_handlers.setdefault(type_name, []).append(handler)
                if rule.thread_frames and not rule.sync_frames:
                    self.thread_handlers.setdefault(type_name, []).append(handler)
        self.class_stack: list[ClassFrame] = []

    # --- generic dispatch ------------------------------------------------------------------
    def on_visit(self, node: cst.CSTNode) -> bool:
        ctx = self.ctx
        ctx.stack.append(node)
        if isinstance(node, cst.FunctionDef | cst.Lambda):
            self._enter_function(node)
        elif isinstance(node, cst.ClassDef):
            self._enter_class(node)
        elif isinstance(node, COMPREHENSIONS):
            self._enter_comprehension(node)
        frame = ctx.frame
        if frame.in_thread:
            for handler in self.thread_handlers.get(type(node).__name__, ()):
                handler(node)
        if not frame.is_async and (frame.summary is None or not ctx.summarize):
            return True  # module level, class bodies, lambdas: nothing to check or record
        if frame.summary is not None and isinstance(node, cst.Call | cst.Attribute):
            self._record_call(frame.summary, node)  # async callers seed the call graph walk
        if frame.is_async:
            handlers = self.handlers.get(type(node).__name__, ())
        else:
            handlers = self.sync_handlers.get(type(node).__name__, ())
        for handler in handlers:
            handler(node)
        return True

    def _record_call(self, summary: FunctionSummary, node: cst.Call | cst.Attribute) -> None:
        """Remember what a sync function calls (and which instance attributes it reads)."""
        ctx = self.ctx
        if isinstance(node, cst.Call):
            site = ctx.inferrer.call_site(node.func)
        else:
            parent = ctx.parent(node)
            if isinstance(parent, cst.Call) and parent.func is node:
                return  # recorded as a call
            site = ctx.inferrer.attribute_site(node)
        if site is not None and site not in summary.calls:
            summary.calls.append(site)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        ctx = self.ctx
        node = original_node
        if isinstance(node, cst.Assign):
            value = ctx.infer(node.value)
            for target in node.targets:
                self._bind(target.target, value)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            self._bind(node.target, ctx.infer(node.value))
        elif isinstance(node, cst.AugAssign):
            self._bind(node.target, None)
        elif isinstance(node, cst.NamedExpr):
            self._bind(node.target, ctx.infer(node.value))
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            self._bind(node.asname.name, None)
        elif isinstance(node, cst.Return) and ctx.frame.summary is not None:
            ctx.frame.returns.append(ctx.infer(node.value) if node.value is not None else None)
        elif isinstance(node, cst.FunctionDef | cst.Lambda):
            frame = ctx.frame
            ctx.frame = frame.parent or frame
            if isinstance(node, cst.FunctionDef) and frame.summary is not None:
                frame.summary.returns = _common(frame.returns)
                if frame.cls is None or not self._directly_in_class(node):
                    ctx.frame.bind(node.name.value, Value(V.CALLABLE, frame.summary.qualname))
        elif isinstance(node, cst.ClassDef):
            self.class_stack.pop()
        elif isinstance(node, COMPREHENSIONS):
            ctx.frame.layers.pop()
        ctx.stack.pop()

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if attribute == "body" and isinstance(node, cst.For):
            self._bind(node.target, self.element_of(self.ctx.infer(node.iter)))

    # --- frames ---------------------------------------------------------------------------
    def _enter_function(self, node: cst.FunctionDef | cst.Lambda) -> None:
        ctx = self.ctx
        cls = self.class_stack[-1] if self.class_stack and self._directly_in_class(node) else None
        if isinstance(node, cst.Lambda):
            frame = Frame("<lambda>", False, node, ctx.frame.cls, ctx.frame)
        else:
            frame = Frame(
                node.name.value,
                self._is_coroutine(node),
                node,
                cls or ctx.frame.cls,
                ctx.frame,
            )
            frame.summary = self._function_summary(node, cls)
            # Decorated with a wrapper, or handed to one in this module: a worker thread's.
            frame.in_thread = not frame.is_async and (
                frame.summary.wrapped or frame.name in ctx.thread_targets
            )
        params = node.params
        all_params = [*params.posonly_params, *params.params, *params.kwonly_params]
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                all_params.append(extra)
        for i, param in enumerate(all_params):
            frame.vars[param.name.value] = self._param_value(param, i, cls, frame)
        ctx.frame = frame

    def _function_summary(self, node: cst.FunctionDef, cls: ClassFrame | None) -> FunctionSummary:
        ctx = self.ctx
        outer = ctx.frame.summary
        if cls is not None:
            qualname = f"{cls.key}.{node.name.value}"
        elif outer is not None:
            qualname = f"{outer.qualname}.{node.name.value}"
        else:
            qualname = (
                f"{ctx.summary.module}.{node.name.value}" if ctx.summary.module else node.name.value
            )
        decorators = [d.decorator for d in node.decorators]
        wrapped = any(ctx.is_wrapper(d.func if isinstance(d, cst.Call) else d) for d in decorators)
        is_property = any(last_name(d) in ("property", "cached_property") for d in decorators)
        summary = FunctionSummary(
            qualname,
            node.name.value,
            self._is_coroutine(node),
            ctx.summary.path,
            wrapped=wrapped,
            is_property=is_property,
        )
        ctx.summary.functions.setdefault(qualname, summary)
        return summary

    def _is_coroutine(self, node: cst.FunctionDef) -> bool:
        """``async def``, or a generator-based coroutine (``@asyncio.coroutine``, Python < 3.11,
        and ``@types.coroutine``): both run on the event loop."""
        if node.asynchronous is not None:
            return True
        return any(
            self.ctx.qualify(d.decorator) in GENERATOR_COROUTINES for d in node.decorators
        )

    def _directly_in_class(self, node: cst.CSTNode) -> bool:
        parent = self.ctx.parent(node)
        grand = self.ctx.parent(parent) if parent is not None else None
        return isinstance(grand, cst.ClassDef)

    def _param_value(
        self, param: cst.Param, position: int, cls: ClassFrame | None, frame: Frame
    ) -> Value | None:
        ctx = self.ctx
        name = param.name.value
        if position == 0 and cls is not None and name in ("self", "cls"):
            if cls.kind == "model" and name == "self":
                return Value(V.INSTANCE, cls.key)
            if cls.kind == "manager":
                return Value(V.MANAGER, None)
            return None
        annotated = ctx.inferrer.annotation(param.annotation) if param.annotation else None
        if annotated is not None:
            if annotated.kind is V.REQUEST and not self._django_request_allowed(cls):
                return None
            return annotated
        if param.annotation is not None:
            return None
        if name == "request" and self._django_request_allowed(cls):
            return Value(V.REQUEST)
        if name == "scope" and frame.is_async:
            return Value(V.SCOPE)
        if cls is None and frame.name != "<lambda>":
            return self._passed_queryset(frame.name, position, name)
        return None

    def _passed_queryset(self, function: str, position: int, name: str) -> Value | None:
        """A parameter the module's own calls feed lazy querysets, and nothing else known:
        ``refresh(Body.objects.all())``, or a local assigned from one (``refresh(qs)``)."""
        expressions = self.ctx.call_arguments.passed(function, position, name)
        if any(expression is NOT_A_QUERYSET for expression in expressions):
            return None
        known = [v for v in map(self.ctx.infer, expressions) if v is not None]
        if not known or any(value.kind is not V.QUERYSET for value in known):
            return None
        models = {value.model for value in known}
        return Value(
            V.QUERYSET,
            models.pop() if len(models) == 1 else None,
            rows_are_instances=all(value.rows_are_instances for value in known),
        )

    def _django_request_allowed(self, cls: ClassFrame | None) -> bool:
        return self.ctx.django_requests and not (cls is not None and cls.is_drf_view)

    def _enter_class(self, node: cst.ClassDef) -> None:
        ctx = self.ctx
        summary = ctx.summary.classes.get(node.name.value)
        key = summary.qualname if summary is not None else node.name.value
        bases = [last_name(b.value) or "" for b in node.bases]
        frame = ClassFrame(
            node.name.value,
            key,
            ctx.index.kind(key),
            is_drf_view=any(b.endswith(DRF_VIEW_SUFFIXES) for b in bases),
        )
        self.class_stack.append(frame)

    def _enter_comprehension(self, node: cst.BaseComp) -> None:
        frame = self.ctx.frame
        frame.layers.append({})
        comp: cst.CompFor | None = node.for_in
        while comp is not None:
            self._bind(comp.target, self.element_of(self.ctx.infer(comp.iter)))
            comp = comp.inner_for_in

    # --- binding -----------------------------------------------------------------------------
    def _bind(self, target: cst.BaseExpression, value: Value | None) -> None:
        ctx = self.ctx
        if isinstance(target, cst.Name):
            if self._in_class_body():
                self.class_stack[-1].attrs[target.value] = value
            else:
                ctx.frame.bind(target.value, value)
        elif isinstance(target, cst.Tuple | cst.List):
            items = value.items if value is not None and value.kind is V.TUPLE else ()
            for i, element in enumerate(target.elements):
                inner = element.value
                self._bind(inner, items[i] if i < len(items) else None)
        elif isinstance(target, cst.Attribute):
            owner = target.value
            if isinstance(owner, cst.Name) and owner.value in ("self", "cls") and ctx.frame.cls:
                ctx.frame.cls.attrs[target.attr.value] = value
            else:
                dotted = dotted_name(target)
                if dotted:
                    ctx.frame.bind(dotted, value)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value, None)

    def _in_class_body(self) -> bool:
        """True when the innermost scope is a class body (not a method inside it)."""
        if not self.class_stack:
            return False
        for node in reversed(self.ctx.stack):
            if isinstance(node, cst.FunctionDef | cst.Lambda):
                return False
            if isinstance(node, cst.ClassDef):
                return True
        return False

    def element_of(self, value: Value | None) -> Value | None:
        """What iterating ``value`` yields."""
        if value is None:
            return None
        if value.kind is V.QUERYSET and value.rows_are_instances:
            return value.but(kind=V.INSTANCE, wrapped_by=None)
        return None


def _common(values: list[Value | None]) -> Value | None:
    """The value every ``return`` gives, or None when they differ or one is unknown."""
    if not values or any(v is None for v in values):
        return None
    first = values[0]
    assert first is not None
    if all(v is not None and v.kind is first.kind and v.model == first.model for v in values):
        return first.but(fresh=False, wrapped_by=None)
    return None
