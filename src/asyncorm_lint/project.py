"""Project-wide analysis: every module of the tree summarized once, models and the call
graph joined across files, findings per file against that whole view.

Summaries are cached on disk (``.asyncorm_lint_cache/`` under the project root) by
content hash, so a re-run re-reads only the files that changed.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .cache import SummaryCache
from .call_graph import CallGraph
from .engine import (
    SourceError,
    analyze_module,
    describe_internal_error,
    may_have_findings,
    parse,
    read_structure,
)
from .files import python_files, read_source
from .findings import Finding
from .index import ModelIndex
from .options import Options
from .summary import CallSite, ModuleSummary

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "manage.py")
Progress = Callable[[int, int], None]


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
    store: SummaryCache | None = None
    digest: str = ""  # what every file's findings depend on besides its own text

    @classmethod
    def load(
        cls,
        root: Path,
        options: Options | None = None,
        cache: bool = True,
        progress: Progress | None = None,
    ) -> Project:
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
        for done, entry in enumerate(entries, start=1):
            if progress is not None:
                progress(done, len(entries))
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
        #    modules async code can reach: the async modules, then every module one of
        #    their calls lands in, and so on (demand-driven: the rest keep their structure).
        by_path = {entry.path: entry for entry in entries if entry.path in structures}
        locate = _ModuleLocator(structures, index)
        walked: dict[Path, ModuleSummary] = {}
        todo = [path for path, summary in structures.items() if summary.has_async]
        while todo:
            path = todo.pop()
            if path in walked:
                continue
            entry = by_path[path]
            key = f"{entry.digest}-{models_digest}-{options_digest(project.options)}"
            summary = store.get("functions", key, entry.name)
            if summary is None:
                summary = project._walk(entry, index, structures[path])
                if summary is None:
                    summary = structures[path]
                else:
                    store.put("functions", key, entry.name, summary)
            walked[path] = summary
            for function in summary.functions.values():
                for site in function.calls:
                    todo.extend(p for p in locate(site) if p not in walked)
        summaries: list[ModuleSummary] = []
        for path, entry in by_path.items():
            summary = walked.get(path, structures[path])
            summary.path = str(path)
            entry.summary = summary
            entry.source = None
            summaries.append(summary)
            project.modules[path] = entry
        project.index = index
        project.graph = CallGraph(index, summaries)
        project.store = store
        project.digest = (
            f"{models_digest}-{project.graph.digest()}-{options_digest(project.options)}"
        )
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
            return read_structure(source, entry.name, str(entry.path))[0]
        except Exception:  # a bug of ours: the module stays out of the project view, and
            return None  # its own analysis (alone) reports the DJA000

    def _walk(
        self, entry: ModuleEntry, index: ModelIndex, known: ModuleSummary
    ) -> ModuleSummary | None:
        source = self._source(entry)
        if source is None:
            return None
        try:
            module = parse(source, str(entry.path))
        except SourceError:
            return None
        analysis = analyze_module(
            module, source, str(entry.path), self.options, index, entry.name, structure=known
        )
        if analysis.error:
            return None  # the module keeps its structure; checking it reports the DJA000
        return analysis.summary

    # --- checking ---------------------------------------------------------------------------
    def contains(self, path: Path) -> bool:
        return path.resolve() in self.modules

    def check(self, path: Path, source: str, cached: bool = True) -> list[Finding]:
        """Findings for one file of the project (``source`` may differ from the disk copy).

        With ``cached``, findings come from (and go to) the on-disk cache, keyed by the
        source and everything it was checked against; they then carry no libcst nodes.
        """
        if not may_have_findings(source):
            return []
        selection = f"{self.options.select}{self.options.ignore}"
        text = f"{self.digest}\0{selection}\0{path}\0{source}"
        key = content_hash(text.encode()) if cached else ""
        if key and self.store is not None:
            found = self.store.findings_get(key)
            if found is not None:
                return found
        resolved = path.resolve()
        entry = self.modules.get(resolved)
        name = entry.name if entry else module_name(resolved, self.root)
        module = parse(source, str(path))
        analysis = analyze_module(
            module,
            source,
            str(path),
            self.options,
            self.index,
            name,
            self.graph,
            root=self.root,
            summarize=False,
        )
        if key and self.store is not None and not analysis.error:
            self.store.findings_put(key, analysis.findings)
        return analysis.findings


class _ModuleLocator:
    """Which modules may define the function a call site reaches (before they are walked)."""

    def __init__(self, structures: dict[Path, ModuleSummary], index: ModelIndex) -> None:
        self.by_name = {summary.module: path for path, summary in structures.items()}
        self.structures = structures
        self.index = index

    def __call__(self, site: CallSite) -> list[Path]:
        if site.kind == "function":
            return self._function(site.target)
        key = self.index.resolve(site.target)
        if key is None:
            return []
        if site.kind == "manager":
            manager = (
                self.index.managers(key).get(site.manager) if self.index.is_model(key) else None
            )
            key = self.index.resolve(manager, key)
            if key is None:
                return []
        return [p for p in (self._module_of(c.qualname) for c in self.index.mro(key)) if p]

    def _function(self, ref: str) -> list[Path]:
        for _ in range(8):  # follow re-exports: ``from .services import helper``
            module, _, name = ref.rpartition(".")
            path = self.by_name.get(module)
            if path is None:
                return []
            summary = self.structures[path]
            if name in summary.toplevel_functions or name in summary.classes:
                return [path]
            target = summary.callables.get(name) or summary.imports.get(name)
            if target is None or target == ref:
                return [path]
            ref = target
        return []

    def _module_of(self, qualname: str) -> Path | None:
        return self.by_name.get(qualname.rpartition(".")[0])


def load_or_none(
    root: Path, options: Options, cache: bool = True, progress: Progress | None = None
) -> Project | None:
    """:meth:`Project.load`, or None when an internal error stops it: the run goes on,
    each file analyzed alone (a file's own internal error is its DJA000 finding)."""
    try:
        return Project.load(root, options, cache=cache, progress=progress)
    except Exception as exc:
        print(
            f"asyncorm-lint: internal error while reading the project at {root}, checking "
            f"each file alone: {describe_internal_error(exc)}: please report it",
            file=sys.stderr,
        )
        return None


def options_digest(options: Options) -> str:
    text = repr((options.django_version, sorted(options.wrappers), sorted(options.managers)))
    return content_hash(text.encode())[:8]


def relative(path: str, root: Path) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:
        return path
