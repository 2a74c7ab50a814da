"""Project-wide analysis: every module of the tree summarized once, models and the call
graph joined across files, findings per file against that whole view.

Summaries are cached on disk (``.asyncorm_lint_cache/`` under the project root) by
content hash, so a re-run re-reads only the files that changed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from .cache import SummaryCache
from .call_graph import CallGraph
from .engine import SourceError, analyze_module, may_have_findings, parse
from .files import python_files, read_source
from .findings import Finding
from .index import ModelIndex
from .options import Options
from .summary import ModuleSummary, summarize_module

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "manage.py")


def find_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding pyproject.toml/setup.cfg/manage.py."""
    start = start.resolve()
    here = start if start.is_dir() else start.parent
    for candidate in (here, *here.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return here


def module_name(path: Path, root: Path) -> str:
    """``app/models.py`` -> ``app.models``: packages are directories with ``__init__.py``;
    a file outside any package is named from its path under ``root``."""
    path = path.resolve()
    parts = [path.stem] if path.name != "__init__.py" else []
    directory = path.parent
    while (directory / "__init__.py").exists() and directory != directory.parent:
        parts.insert(0, directory.name)
        directory = directory.parent
    if len(parts) <= 1 and path.parent != root:
        try:
            relative = path.relative_to(root).with_suffix("")
        except ValueError:
            return ".".join(parts)
        names = [p for p in relative.parts if p != "__init__"]
        if names and names[0] == "src":
            names = names[1:]
        return ".".join(names)
    return ".".join(parts)


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class ModuleEntry:
    path: Path
    name: str
    digest: str
    source: str | None = None  # kept only while loading
    summary: ModuleSummary | None = None


@dataclass
class Project:
    """The analyzed tree: summaries of every module, the model index and the call graph."""

    root: Path
    options: Options
    modules: dict[Path, ModuleEntry] = field(default_factory=dict)
    index: ModelIndex | None = None
    graph: CallGraph | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path, options: Options | None = None, cache: bool = True) -> Project:
        """Summarize every module under ``root`` (reusing the on-disk cache when allowed)."""
        project = cls(root.resolve(), options or Options())
        store = SummaryCache(project.root, enabled=cache)
        entries: list[ModuleEntry] = []
        for path in python_files([str(project.root)]):
            try:
                data = path.read_bytes()
            except OSError as exc:
                project.errors.append(f"{path}: cannot read: {exc}")
                continue
            name = module_name(path, project.root)
            entries.append(ModuleEntry(path.resolve(), name, content_hash(data)))
        # 1. Structure (classes, imports, aliases): enough to build the model index.
        structures: dict[Path, ModuleSummary] = {}
        for entry in entries:
            structure = store.get("structure", entry.digest, entry.name)
            if structure is None:
                structure = project._structure(entry)
                if structure is None:
                    continue
                store.put("structure", entry.digest, entry.name, structure)
            structures[entry.path] = structure
        user_model = next((s.user_model for s in structures.values() if s.user_model), None)
        index = ModelIndex(list(structures.values()))
        if user_model:
            index = ModelIndex(list(structures.values()), index.resolve(user_model))
        models_digest = index.digest()
        # 2. Functions (effects, calls), walked with the whole model index in hand, for the
        #    modules async code can reach: async modules, what they import (transitively),
        #    and the modules that define models, managers and forms.
        needed = _reachable(structures, index)
        summaries: list[ModuleSummary] = []
        for entry in entries:
            structure = structures.get(entry.path)
            if structure is None:
                continue
            if entry.path not in needed:
                structure.path = str(entry.path)
                entry.summary = structure
                summaries.append(structure)
                project.modules[entry.path] = entry
                continue
            key = f"{entry.digest}-{models_digest}-{options_digest(project.options)}"
            summary = store.get("functions", key, entry.name)
            if summary is None:
                summary = project._walk(entry, index)
                if summary is None:
                    continue
                store.put("functions", key, entry.name, summary)
            summary.path = str(entry.path)
            entry.summary = summary
            entry.source = None
            summaries.append(summary)
            project.modules[entry.path] = entry
        project.index = index
        project.graph = CallGraph(index, summaries)
        store.flush()
        return project

    def _source(self, entry: ModuleEntry) -> str | None:
        if entry.source is None:
            try:
                entry.source = read_source(entry.path)
            except (OSError, UnicodeDecodeError, SyntaxError) as exc:
                self.errors.append(f"{entry.path}: cannot read: {exc}")
                return None
        return entry.source

    def _structure(self, entry: ModuleEntry) -> ModuleSummary | None:
        source = self._source(entry)
        if source is None:
            return None
        try:
            module = parse(source, str(entry.path))
        except SourceError as exc:
            self.errors.append(str(exc))
            return None
        summary, _ = summarize_module(
            module, entry.name, str(entry.path), entry.path.name == "__init__.py"
        )
        summary.has_async = may_have_findings(source)
        return summary

    def _walk(self, entry: ModuleEntry, index: ModelIndex) -> ModuleSummary | None:
        source = self._source(entry)
        if source is None:
            return None
        try:
            module = parse(source, str(entry.path))
        except SourceError:
            return None
        analysis = analyze_module(module, source, str(entry.path), self.options, index, entry.name)
        return analysis.summary

    # --- checking ---------------------------------------------------------------------------
    def contains(self, path: Path) -> bool:
        return path.resolve() in self.modules

    def check(self, path: Path, source: str) -> list[Finding]:
        """Findings for one file of the project (``source`` may differ from the disk copy)."""
        if not may_have_findings(source):
            return []
        resolved = path.resolve()
        entry = self.modules.get(resolved)
        name = entry.name if entry else module_name(resolved, self.root)
        module = parse(source, str(path))
        analysis = analyze_module(
            module, source, str(path), self.options, self.index, name, self.graph, root=self.root
        )
        return analysis.findings


def _reachable(structures: dict[Path, ModuleSummary], index: ModelIndex) -> set[Path]:
    """Modules whose functions async code may call."""
    by_name = {s.module: path for path, s in structures.items()}
    todo = [path for path, s in structures.items() if s.has_async]
    todo += [
        path
        for path, s in structures.items()
        if any(index.kind(c.qualname) for c in s.classes.values())
    ]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for target in structures[path].imports.values():
            parts = target.split(".")
            for cut in range(len(parts), 0, -1):
                found = by_name.get(".".join(parts[:cut]))
                if found is not None:
                    if found not in seen:
                        todo.append(found)
                    break
    return seen


def options_digest(options: Options) -> str:
    text = repr((options.django_version, sorted(options.wrappers), sorted(options.managers)))
    return content_hash(text.encode())[:8]


def relative(path: str, root: Path) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:
        return path
