"""The model index: which classes are models, managers, querysets and model forms, and
what each model's attributes are (fields, forward and reverse relations, managers).

Built from module summaries only: no Django import, no settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .builtin_models import BUILTIN_SOURCES, DEFAULT_USER_MODEL
from .imports import is_models_module
from .summary import USER_MODEL, ClassSummary, FieldSummary, ModuleSummary, summarize_source

MODEL_BASES = {"django.db.models.Model", "django.db.models.base.Model"}
MANAGER_BASES = {
    "django.db.models.Manager",
    "django.db.models.manager.Manager",
    "django.db.models.manager.BaseManager",
    "django.db.models.QuerySet",
    "django.db.models.query.QuerySet",
}
NOT_MODEL_SUFFIXES = (
    "Mixin",
    "Manager",
    "QuerySet",
    "Queryset",
    "Choices",
    "Form",
    "Error",
    "Exception",
    "Serializer",
    "Field",
    "Admin",
    "Config",
    "Enum",
)


@dataclass(frozen=True)
class Relation:
    """An attribute of a model that reaches another model.

    ``kind``: "forward" (FK/OneToOne/GenericForeignKey: an instance, fetched lazily),
    "reverse_one_to_one" (an instance, fetched lazily) or "many" (a related manager).
    """

    name: str
    kind: str
    target: str | None  # model key, None when unknown (GenericForeignKey)


@lru_cache(maxsize=1)
def builtin_summaries() -> tuple[ModuleSummary, ...]:
    return tuple(summarize_source(src, mod)[0] for mod, src in BUILTIN_SOURCES.items())


class ModelIndex:
    """Models and their relations across every summarized module."""

    def __init__(self, summaries: list[ModuleSummary], user_model: str | None = None) -> None:
        self.modules: dict[str, ModuleSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        self.by_name: dict[str, list[str]] = {}
        for summary in [*builtin_summaries(), *summaries]:
            self.add(summary)
        self.user_model = user_model or DEFAULT_USER_MODEL
        self._kinds: dict[str, str] = {}
        self._relations: dict[str, dict[str, Relation]] | None = None

    def digest(self) -> str:
        """A stable fingerprint of everything the index was built from (for cache keys)."""
        import hashlib

        parts = [self.user_model or ""]
        for name in sorted(self.modules):
            summary = self.modules[name]
            parts.append(name)
            parts.append(repr(sorted(summary.imports.items())))
            parts.append(repr(sorted(summary.aliases.items())))
            parts.append(repr(sorted(summary.callables.items())))
            for cls_name in sorted(summary.classes):
                cls = summary.classes[cls_name]
                parts.append(
                    repr(
                        (
                            cls.qualname,
                            cls.bases,
                            sorted((k, repr(v)) for k, v in cls.fields.items()),
                            sorted(cls.managers.items(), key=str),
                            sorted(cls.methods),
                            sorted(cls.async_methods),
                            sorted(cls.properties),
                            sorted(cls.builder_methods),
                            cls.abstract,
                            cls.proxy,
                        )
                    )
                )
        return hashlib.blake2b("\n".join(parts).encode(), digest_size=12).hexdigest()

    def add(self, summary: ModuleSummary) -> None:
        self.modules[summary.module] = summary
        for cls in summary.classes.values():
            self.classes[cls.qualname] = cls
            self.by_name.setdefault(cls.name, []).append(cls.qualname)

    # --- resolving references ---------------------------------------------------------
    def resolve(self, ref: str | None, context: str | None = None) -> str | None:
        """The key of the class ``ref`` names, following re-exports; None when unknown."""
        if not ref:
            return None
        if ref == USER_MODEL:
            return self.user_model
        if ref in self.classes:
            return ref
        if ref == "self":
            return context
        module, _, name = ref.rpartition(".")
        seen = 0
        while module in self.modules and seen < 8:  # ``from .article import Article`` re-exports
            target = self.modules[module].imports.get(name) or self.modules[module].aliases.get(
                name
            )
            if target is None or target == ref:
                break
            if target == USER_MODEL:
                return self.user_model
            if target in self.classes:
                return target
            ref, seen = target, seen + 1
            module, _, name = ref.rpartition(".")
        if ref.count(".") == 1:  # "app_label.Model" string reference
            return self._by_app_label(module, name)
        if "." not in ref:  # bare "Model" string: same module, else a unique class name
            if context:
                same = f"{context.rpartition('.')[0]}.{ref}"
                if same in self.classes:
                    return same
            candidates = self.by_name.get(ref, [])
            return candidates[0] if len(candidates) == 1 else None
        return None

    def _by_app_label(self, app: str, name: str) -> str | None:
        candidates = self.by_name.get(name, [])
        labelled = [c for c in candidates if _app_label(c) == app]
        if len(labelled) == 1:
            return labelled[0]
        return candidates[0] if len(candidates) == 1 else None

    # --- class kinds --------------------------------------------------------------------
    def kind(self, key: str | None) -> str | None:
        """ "model", "manager", "modelform" or None for a class key."""
        if key is None:
            return None
        if key not in self._kinds:
            self._kinds[key] = ""  # cycle guard
            self._kinds[key] = self._compute_kind(key)
        return self._kinds[key] or None

    def _compute_kind(self, key: str) -> str:
        cls = self.classes.get(key)
        if cls is None:
            return ""
        for base in cls.bases:
            if base in MODEL_BASES:
                return "model"
            if base in MANAGER_BASES or (
                base.endswith(("Manager", "QuerySet")) and base not in self.classes
            ):
                return "manager"
            if base.endswith("ModelForm") and base not in self.classes:
                return "modelform"
            resolved = self.resolve(base, key)
            if resolved is not None:
                base_kind = self.kind(resolved)
                if base_kind:
                    return base_kind
            elif looks_like_model_ref(base):
                return "model"
        return ""

    def is_model(self, key: str | None) -> bool:
        return self.kind(key) == "model"

    def model_for_ref(self, ref: str | None, context: str | None = None) -> str | None:
        """A model key for a class reference, or None when ``ref`` is not a known model."""
        key = self.resolve(ref, context)
        return key if self.is_model(key) else None

    # --- model attributes -----------------------------------------------------------------
    def mro(self, key: str) -> list[ClassSummary]:
        out: list[ClassSummary] = []
        todo, seen = [key], set()
        while todo:
            current = todo.pop(0)
            if current in seen or current not in self.classes:
                continue
            seen.add(current)
            cls = self.classes[current]
            out.append(cls)
            todo.extend(r for r in (self.resolve(b, current) for b in cls.bases) if r)
        return out

    def fields(self, key: str) -> dict[str, FieldSummary]:
        merged: dict[str, FieldSummary] = {}
        for cls in reversed(self.mro(key)):
            merged.update(cls.fields)
        return merged

    def relation(self, key: str | None, attr: str) -> Relation | None:
        if key is None:
            return None
        if self._relations is None:
            self._relations = self._build_relations()
        return self._relations.get(key, {}).get(attr)

    def plain_fields(self, key: str) -> set[str]:
        return {n for n, f in self.fields(key).items() if not f.is_relation}

    def managers(self, key: str) -> dict[str, str | None]:
        found: dict[str, str | None] = {
            "objects": None,
            "_default_manager": None,
            "_base_manager": None,
        }
        for cls in reversed(self.mro(key)):
            found.update(cls.managers)
        return found

    def builder_methods(self, model: str, manager_attr: str) -> set[str]:
        """Custom manager/queryset methods known to return a QuerySet."""
        ref = self.managers(model).get(manager_attr)
        key = self.resolve(ref, model)
        out: set[str] = set()
        for cls in self.mro(key) if key else []:
            out |= cls.builder_methods
        return out

    def _build_relations(self) -> dict[str, dict[str, Relation]]:
        out: dict[str, dict[str, Relation]] = {}
        for key in list(self.classes):
            if not self.is_model(key):
                continue
            for name, f in self.fields(key).items():
                if not f.is_relation:
                    continue
                target = self.resolve(f.target, key) if f.target else None
                if f.kind in ("fk", "o2o", "gfk"):
                    out.setdefault(key, {})[name] = Relation(name, "forward", target)
                else:
                    out.setdefault(key, {})[name] = Relation(name, "many", target)
                if (
                    target is None
                    or f.kind in ("gfk", "generic_relation")
                    or self.classes[key].abstract
                ):
                    continue
                accessor = _reverse_accessor(f, self.classes[key].name)
                if accessor:
                    kind = "reverse_one_to_one" if f.kind == "o2o" else "many"
                    for concrete in self._concrete_descendants(target):
                        out.setdefault(concrete, {}).setdefault(
                            accessor, Relation(accessor, kind, key)
                        )
        return out

    def _concrete_descendants(self, key: str) -> list[str]:
        """``key`` plus models inheriting from it (reverse accessors are inherited by proxies)."""
        return [
            k
            for k in self.classes
            if self.is_model(k) and any(c.qualname == key for c in self.mro(k))
        ]


def _reverse_accessor(f: FieldSummary, model_name: str) -> str | None:
    if f.related_name is not None:
        if f.related_name.endswith("+"):
            return None
        return f.related_name.replace("%(class)s", model_name.lower()).replace("%(app_label)s", "")
    lower = model_name.lower()
    return lower if f.kind == "o2o" else f"{lower}_set"


def _app_label(key: str) -> str:
    parts = key.split(".")
    if "models" in parts:
        idx = parts.index("models")
        return parts[idx - 1] if idx else ""
    return parts[-2] if len(parts) >= 2 else ""


def looks_like_model_ref(ref: str) -> bool:
    """An unresolved class imported from a ``models`` module with a model-like name."""
    name = ref.rpartition(".")[2]
    return is_models_module(ref) and name[:1].isupper() and not name.endswith(NOT_MODEL_SUFFIXES)
