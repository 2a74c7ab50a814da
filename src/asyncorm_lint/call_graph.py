"""The call graph: which sync functions (transitively) run sync ORM work, and through which chain.

Built from function summaries; call sites resolve against the model index (methods
through the class hierarchy, manager methods through the model's managers, properties).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from .index import ModelIndex
from .summary import CallSite, Effect, FunctionSummary, ModuleSummary


@dataclass(frozen=True)
class Chain:
    """``functions[0]`` calls ``functions[1]``... and the last one does ``effect``."""

    functions: tuple[str, ...]
    effect: Effect
    path: str

    def render(self, first: str) -> str:
        """``a() -> b() -> Model.objects.get()`` (the first hop spelled as in the caller)."""
        hops = [f"{first}()"] + [f"{short_name(f)}()" for f in self.functions[1:]]
        return " -> ".join([*hops, self.effect.what])


def short_name(qualname: str) -> str:
    """``app.views.ArticleView.get_object`` -> ``ArticleView.get_object``."""
    parts = qualname.split(".")
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return ".".join(parts[-2:])
    return parts[-1]


class CallGraph:
    """Function summaries of every analyzed module, and the chains that reach ORM work."""

    def __init__(self, index: ModelIndex, summaries: Iterable[ModuleSummary]) -> None:
        self.index = index
        self.modules: dict[str, ModuleSummary] = {}
        self.functions: dict[str, FunctionSummary] = {}
        for summary in summaries:
            self.modules[summary.module] = summary
            self.functions.update(summary.functions)
        self._chains: dict[str, Chain] | None = None

    # --- resolution -----------------------------------------------------------------------
    def resolve(self, site: CallSite) -> str | None:
        """The qualified name of the function a call site reaches, if it is analyzed code."""
        if site.kind == "function":
            return self._function(site.target)
        if site.kind == "method":
            return self._method(self.index.resolve(site.target), site.name)
        if site.kind == "manager":
            model = self.index.resolve(site.target)
            if model is None or not self.index.is_model(model):
                return None
            manager = self.index.resolve(self.index.managers(model).get(site.manager), model)
            return self._method(manager, site.name)
        if site.kind == "attribute":
            found = self._method(self.index.resolve(site.target), site.name)
            return found if found and self.functions[found].is_property else None
        return None

    def _function(self, ref: str) -> str | None:
        for _ in range(8):  # follow re-exports and aliases: ``from .services import helper``
            if ref in self.functions:
                return ref
            module, _, name = ref.rpartition(".")
            summary = self.modules.get(module)
            if summary is None:
                return None
            target = summary.callables.get(name) or summary.imports.get(name)
            if target is None or target == ref:
                return None
            ref = target
        return None

    def _method(self, class_key: str | None, name: str) -> str | None:
        if class_key is None:
            return None
        for cls in self.index.mro(class_key):
            qualname = f"{cls.qualname}.{name}"
            if qualname in self.functions:
                return qualname
        return None

    def returns(self, ref: str) -> object:
        found = self._function(ref)
        return self.functions[found].returns if found else None

    def digest(self) -> str:
        """A fingerprint of what checks depend on: every chain and every known return value."""
        import hashlib

        parts = [repr((name, chain)) for name, chain in sorted(self.chains().items())]
        parts += [
            repr((name, f.returns))
            for name, f in sorted(self.functions.items())
            if f.returns is not None
        ]
        return hashlib.blake2b("\n".join(parts).encode(), digest_size=12).hexdigest()

    # --- effects ---------------------------------------------------------------------------
    def chain(self, site: CallSite) -> Chain | None:
        """How calling ``site`` from async code reaches sync ORM work, or None."""
        qualname = self.resolve(site)
        if qualname is None:
            return None
        return self.chains().get(qualname)

    def chains(self) -> dict[str, Chain]:
        """Shortest chain to ORM work for every sync function that has one (BFS from effects)."""
        if self._chains is None:
            self._chains = self._compute()
        return self._chains

    def _compute(self) -> dict[str, Chain]:
        callers: dict[str, list[str]] = {}
        for function in self.functions.values():
            if function.is_async:
                continue
            for site in function.calls:
                callee = self.resolve(site)
                if callee is not None and callee != function.qualname:
                    callers.setdefault(callee, []).append(function.qualname)
        chains: dict[str, Chain] = {}
        queue: deque[str] = deque()
        for function in self.functions.values():
            if function.effects and _propagates(function):
                chains[function.qualname] = Chain(
                    (function.qualname,), function.effects[0], function.path
                )
                queue.append(function.qualname)
        while queue:
            callee = queue.popleft()
            for caller in callers.get(callee, ()):
                if caller in chains or not _propagates(self.functions[caller]):
                    continue
                below = chains[callee]
                chains[caller] = Chain((caller, *below.functions), below.effect, below.path)
                queue.append(caller)
        return chains


def _propagates(function: FunctionSummary) -> bool:
    """Sync, and not wrapped with sync_to_async (calling that returns an awaitable)."""
    return not function.is_async and not function.wrapped
