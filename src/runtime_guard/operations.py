"""Map Django-internal frames to the fact they break: which sync entry point the user's code
called, its DJA code and the async replacement, all read from ``asyncorm_lint.django_api``.

A stack is read from the user's frame inwards; the first Django frame listed in
:data:`ENTRY_POINTS` names the operation (``manager_method`` glue and other unlisted frames
are skipped). Frames are keyed by path inside the ``django`` package and ``co_qualname``,
so a key is checked against Django's source by the tests, without importing anything here.
"""

from __future__ import annotations

import linecache
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

import django

from asyncorm_lint.django_api import (
    EVALUATIONS,
    MODEL_METHODS,
    PREFETCH_FUNCTIONS,
    QUERYSET_METHODS,
    RELATED_MANAGER_METHODS,
    RELATION_ACCESS,
    SESSION_METHODS,
    SHORTCUTS,
    SYNC_ONLY,
    SYNC_TO_ASYNC,
    USER_MANAGER_METHODS,
    USER_METHODS,
    Fact,
    Kind,
    by_kind,
)
from runtime_guard.records import UNMAPPED_SYNC_ACCESS


@dataclass(frozen=True)
class Operation:
    """The sync operation a report names: what ran, its code and the fix."""

    name: str  # stable name: "QuerySet.get", "Model.save", "request.user", ...
    display: str  # what the user wrote, as far as the frames tell: "Article.objects.get()"
    code: str
    replacement: str  # code only: "await Article.objects.aget()", "select_related('author')"
    advice: str = ""  # prose around it: "on the query that fetched the Article"
    fact: Fact | None = None
    batch_fix: str | None = None  # how to fetch this for many objects at once (N+1 advice)

    @property
    def fix(self) -> str:
        """The fix as a sentence fragment: "`code` advice"."""
        return f"`{self.replacement}` {self.advice}".rstrip()


@dataclass(frozen=True)
class Match:
    """A listed frame on the stack and its neighbours (innermost first)."""

    frame: FrameType
    outer: list[FrameType]  # frames between this one and the user's frame, innermost first
    inner: list[FrameType]  # frames called by this one, innermost first
    user: FrameType | None


Describe = Callable[[Fact, Match], Operation]

_DJANGO_ROOT = os.path.join(os.path.dirname(os.path.realpath(django.__file__)), "")
_DJANGO_ROOT_ALT = os.path.join(os.path.dirname(django.__file__), "")
_WRAP = SYNC_TO_ASYNC.format(callable="fn", args="")


def _facts(items: list[Fact]) -> dict[str, Fact]:
    return {f.name: f for f in items}


_QS = _facts(QUERYSET_METHODS)
_EVAL = _facts(EVALUATIONS)
_MODEL = _facts(MODEL_METHODS)
_RELATED = _facts(RELATED_MANAGER_METHODS)
_RELATION = _facts(RELATION_ACCESS)
_SESSION = _facts(SESSION_METHODS)
_SYNC_ONLY = _facts(SYNC_ONLY)
_USER = _facts(USER_METHODS)
_USER_MANAGER = _facts(USER_MANAGER_METHODS)
_AUTH = by_kind(Kind.AUTH_FUNCTION)
_HASHER = by_kind(Kind.HASHER_FUNCTION)
_REQUEST = by_kind(Kind.REQUEST_ATTRIBUTE)
_SHORTCUT = _facts(SHORTCUTS)
_PREFETCH = _facts(PREFETCH_FUNCTIONS)


# --- helpers --------------------------------------------------------------------------------
def _local(frame: FrameType, name: str) -> Any:
    return frame.f_locals.get(name)


def _model_name(obj: Any) -> str:
    model = getattr(obj, "model", None)
    return getattr(model, "__name__", None) or type(obj).__name__


def _user_line(match: Match) -> str:
    if match.user is None:
        return ""
    return linecache.getline(match.user.f_code.co_filename, match.user.f_lineno)


# --- describers: one per kind of entry point -----------------------------------------------
def _queryset_method(fact: Fact, m: Match) -> Operation:
    model = _model_name(_local(m.frame, "self"))
    receiver = None
    for frame in m.outer:
        if frame.f_code.co_name == "manager_method":
            manager = _local(frame, "self")
            if getattr(manager, "instance", None) is not None:
                receiver = "related_manager"
            else:
                receiver = f"{model}.{getattr(manager, 'name', None) or 'objects'}"
            break
    return Operation(
        name=f"QuerySet.{fact.name}",
        display=f"{receiver or f'{model} QuerySet'}.{fact.name}()",
        code=fact.code,
        replacement=f"await {receiver or 'queryset'}.{fact.replacement}()",
        fact=fact,
    )


_LIST_LIKE = re.compile(r"\b(list|tuple|set|sorted|dict)\s*\(")
_FOR = re.compile(r"\bfor\b")
_IN = re.compile(r"\bin\b")


def _evaluation(fact: Fact, m: Match) -> Operation:
    qs = _local(m.frame, "self")
    model = _model_name(qs)
    parent = (getattr(qs, "_hints", None) or {}).get("instance")
    if fact.name == "for" and not m.outer:
        # list(qs) and `x in qs` iterate too: tell them apart by the user's source line.
        line = _user_line(m)
        if not _FOR.search(line):
            if _LIST_LIKE.search(line):
                fact = _EVAL["list"]
            elif _IN.search(line):
                fact = _EVAL["contains"]
    display = f"{fact.name}({model} QuerySet)"
    if fact.name == "for":
        display = f"for ... in {model} QuerySet"
    elif fact.name == "contains":
        display = f"... in {model} QuerySet"
    return Operation(
        name=f"QuerySet evaluation ({fact.name})",
        display=display,
        code=fact.code,
        replacement=fact.replacement or _WRAP,
        advice=f"({fact.note})" if fact.note else "",
        fact=fact,
        batch_fix=None
        if parent is None
        else (
            f"prefetch_related(...) on the query that fetched the {type(parent).__name__} objects"
        ),
    )


def _template_name(frame: FrameType) -> str | None:
    tpl = _local(frame, "self")
    return getattr(tpl, "name", None) or getattr(getattr(tpl, "origin", None), "name", None)


def _template_rendering(fact: Fact, m: Match) -> Operation:
    template = None
    model = None
    for frame in m.inner:  # innermost first: the QuerySet being evaluated, then the template
        code = frame.f_code
        if model is None and code.co_qualname.startswith("QuerySet."):
            model = _model_name(_local(frame, "self"))
        if (
            template is None
            and code.co_qualname == "Template.render"
            and (code.co_filename.endswith(os.path.join("template", "base.py")))
        ):
            template = _template_name(frame)
    what = f"a lazy {model} QuerySet" if model else "a lazy QuerySet"
    return Operation(
        name="template rendering",
        display=f"rendering template {template or '?'} ({what})",
        code=fact.code,
        replacement=fact.replacement or _WRAP,
        advice="on the queryset before rendering it",
        fact=fact,
    )


def _model_method(fact: Fact, m: Match) -> Operation:
    model = type(_local(m.frame, "self")).__name__
    return Operation(
        name=f"Model.{fact.name}",
        display=f"{model}.{fact.name}()",
        code=fact.code,
        replacement=f"await {model.lower()}.{fact.replacement}()",
        fact=fact,
    )


def _lazy_relation(fact: Fact, what: str, model: str, name: str) -> Operation:
    """A relation that was not fetched with its instance: select_related fixes both cases."""
    return Operation(
        name=f"{what} {model}.{name}",
        display=f"{model}.{name}",
        code=fact.code,
        replacement=f"select_related({name!r})",
        advice=f"on the query that fetched the {model}",
        fact=fact,
        batch_fix=f"select_related({name!r}) on the query that fetched the {model} objects",
    )


def _forward_relation(fact: Fact, m: Match) -> Operation:
    field = getattr(_local(m.frame, "self"), "field", None)
    model = getattr(getattr(field, "model", None), "__name__", "?")
    return _lazy_relation(fact, "lazy FK", model, getattr(field, "name", "?"))


def _reverse_one_to_one(fact: Fact, m: Match) -> Operation:
    related = getattr(_local(m.frame, "self"), "related", None)
    model = type(_local(m.frame, "instance")).__name__
    name = related.get_accessor_name() if related is not None else "?"
    return _lazy_relation(fact, "lazy reverse one-to-one", model, name)


def _deferred_field(fact: Fact, m: Match) -> Operation:
    field = getattr(_local(m.frame, "self"), "field", None)
    model = type(_local(m.frame, "instance")).__name__
    name = getattr(field, "attname", "?")
    return Operation(
        name=f"deferred field {model}.{name}",
        display=f"{model}.{name}",
        code=fact.code,
        replacement=f"await {model.lower()}.arefresh_from_db(fields=[{name!r}])",
        advice=f"({fact.note})",
        fact=fact,
    )


def _related_manager(fact: Fact, m: Match) -> Operation:
    manager = _local(m.frame, "self")
    instance = getattr(manager, "instance", None)
    owner = type(instance).__name__ if instance is not None else "?"
    return Operation(
        name=f"related manager {fact.name}",
        display=f"{owner} related manager ({_model_name(manager)}).{fact.name}()",
        code=fact.code,
        replacement=f"await related_manager.{fact.replacement}()",
        fact=fact,
        batch_fix=f"prefetch_related(...) on the query that fetched the {owner} objects",
    )


def _request_user(fact: Fact, m: Match) -> Operation:
    return Operation(
        name="request.user",
        display="request.user",
        code=fact.code,
        replacement=fact.replacement or _WRAP,
        fact=fact,
    )


def _named_call(prefix: str, receiver: str) -> Describe:
    """Describer for functions and methods whose fix is the ``a``-twin on ``receiver``."""

    def describe(fact: Fact, m: Match) -> Operation:
        advice = f"({fact.note})" if fact.note else ""
        if fact.replacement is None:
            repl = _WRAP
        elif fact.replacement.startswith("await "):
            repl = fact.replacement
        else:
            repl = f"await {receiver}{fact.replacement}()"
        return Operation(
            name=f"{prefix}{fact.name}",
            display=f"{prefix}{fact.name}()",
            code=fact.code,
            replacement=repl,
            advice=advice,
            fact=fact,
        )

    return describe


# --- the table ---------------------------------------------------------------------------------
_QUERY = "db/models/query.py"
_BASE = "db/models/base.py"
_DESCRIPTORS = "db/models/fields/related_descriptors.py"
_REVERSE_FK = "create_reverse_many_to_one_manager.<locals>.RelatedManager."
_M2M = "create_forward_many_to_many_manager.<locals>.ManyRelatedManager."

ENTRY_POINTS: dict[tuple[str, str], tuple[Fact, Describe]] = {}


def _add(path: str, qualname: str, fact: Fact, describe: Describe) -> None:
    ENTRY_POINTS[(path, qualname)] = (fact, describe)


for _name, _fact in _QS.items():
    _add(_QUERY, f"QuerySet.{_name}", _fact, _queryset_method)
_add(_QUERY, "QuerySet._iterator", _QS["iterator"], _queryset_method)
for _dunder, _name in (
    ("__iter__", "for"),
    ("__len__", "len"),
    ("__bool__", "bool"),
    ("__getitem__", "getitem"),
    ("__repr__", "repr"),
):
    _add(_QUERY, f"QuerySet.{_dunder}", _EVAL[_name], _evaluation)
_add(_QUERY, "prefetch_related_objects", _PREFETCH["prefetch_related_objects"], _named_call("", ""))
for _path, _qualname in (
    ("shortcuts.py", "render"),
    ("template/loader.py", "render_to_string"),
    ("template/backends/django.py", "Template.render"),
    ("template/base.py", "Template.render"),
    ("template/response.py", "SimpleTemplateResponse.render"),
):
    _add(_path, _qualname, _EVAL["consumer"], _template_rendering)
for _name in ("get_object_or_404", "get_list_or_404"):
    _add("shortcuts.py", _name, _SHORTCUT[_name], _named_call("", ""))
for _name, _fact in _MODEL.items():
    _add(_BASE, f"Model.{_name}", _fact, _model_method)
_add(_DESCRIPTORS, "ForwardManyToOneDescriptor.__get__", _RELATION["forward"], _forward_relation)
_add(
    _DESCRIPTORS,
    "ReverseOneToOneDescriptor.__get__",
    _RELATION["reverse_one_to_one"],
    _reverse_one_to_one,
)
_add(
    "db/models/query_utils.py", "DeferredAttribute.__get__", _RELATION["deferred"], _deferred_field
)
for _name, _fact in _RELATED.items():
    _add(_DESCRIPTORS, _REVERSE_FK + _name, _fact, _related_manager)
    _add(_DESCRIPTORS, _M2M + _name, _fact, _related_manager)
# request.user: AuthenticationMiddleware's SimpleLazyObject calls this get_user.
_add("contrib/auth/middleware.py", "get_user", _REQUEST["user"], _request_user)
for _name, _fact in _AUTH.items():
    _add("contrib/auth/__init__.py", _name, _fact, _named_call("django.contrib.auth.", "auth."))
_add(
    "contrib/auth/hashers.py",
    "check_password",
    _HASHER["check_password"],
    _named_call("django.contrib.auth.hashers.", "hashers."),
)
_add(
    "contrib/auth/base_user.py",
    "AbstractBaseUser.check_password",
    _USER["check_password"],
    _named_call("user.", "user."),
)
for _name in (
    "has_perm",
    "has_perms",
    "has_module_perms",
    "get_user_permissions",
    "get_group_permissions",
    "get_all_permissions",
):
    _add(
        "contrib/auth/models.py",
        f"PermissionsMixin.{_name}",
        _USER[_name],
        _named_call("user.", "user."),
    )
for _name in ("create_user", "create_superuser"):
    _add(
        "contrib/auth/models.py",
        f"UserManager.{_name}",
        _USER_MANAGER[_name],
        _named_call("User.objects.", "User.objects."),
    )
_add(
    "contrib/auth/base_user.py",
    "BaseUserManager.get_by_natural_key",
    _USER_MANAGER["get_by_natural_key"],
    _named_call("User.objects.", "User.objects."),
)
for _dunder, _name in (
    ("__getitem__", "getitem"),
    ("__setitem__", "setitem"),
    ("__delitem__", "delitem"),
    ("__contains__", "contains"),
):
    _add(
        "contrib/sessions/backends/base.py",
        f"SessionBase.{_dunder}",
        _SESSION[_name],
        _named_call("request.session.", "request.session."),
    )
for _name, _fact in _SESSION.items():
    if _name not in ("getitem", "setitem", "delitem", "contains", "save"):
        _add(
            "contrib/sessions/backends/base.py",
            f"SessionBase.{_name}",
            _fact,
            _named_call("request.session.", "request.session."),
        )
_add(
    "contrib/sessions/backends/db.py",
    "SessionStore.save",
    _SESSION["save"],
    _named_call("request.session.", "request.session."),
)
_add("db/transaction.py", "Atomic.__enter__", _SYNC_ONLY["atomic"], _named_call("transaction.", ""))
_add("db/transaction.py", "Atomic.__exit__", _SYNC_ONLY["atomic"], _named_call("transaction.", ""))
_add(
    "db/backends/base/base.py",
    "BaseDatabaseWrapper.cursor",
    _SYNC_ONLY["cursor"],
    _named_call("connection.", ""),
)
for _name in ("count", "num_pages", "page", "get_page", "validate_number"):
    _add("core/paginator.py", f"Paginator.{_name}", _SYNC_ONLY["Paginator"], _named_call("", ""))
for _name in ("_post_clean", "save"):
    _add("forms/models.py", f"BaseModelForm.{_name}", _SYNC_ONLY["ModelForm"], _named_call("", ""))
for _name in ("full_clean", "validate_unique", "validate_constraints"):
    _add(_BASE, f"Model.{_name}", _SYNC_ONLY[_name], _named_call("instance.", ""))
for _name in ("get_for_model", "get_for_models", "get_for_id"):
    _add(
        "contrib/contenttypes/models.py",
        f"ContentTypeManager.{_name}",
        _SYNC_ONLY[_name],
        _named_call("ContentType.objects.", ""),
    )


# --- lookup ------------------------------------------------------------------------------------
_key_cache: dict[CodeType, tuple[Fact, Describe] | None] = {}


def _entry(code: CodeType) -> tuple[Fact, Describe] | None:
    try:
        return _key_cache[code]
    except KeyError:
        pass
    filename = code.co_filename
    entry = None
    for root in (_DJANGO_ROOT, _DJANGO_ROOT_ALT):
        if filename.startswith(root):
            rel = filename[len(root) :].replace(os.sep, "/")
            entry = ENTRY_POINTS.get((rel, code.co_qualname))
            break
    _key_cache[code] = entry
    return entry


_ASYNC_UNSAFE_INNER = "async_unsafe.<locals>.decorator.<locals>.inner"


def _code_of(frame: FrameType) -> CodeType:
    """The frame's code; for Django's ``async_unsafe`` wrapper, the wrapped function's."""
    code = frame.f_code
    if code.co_qualname == _ASYNC_UNSAFE_INNER:
        func = frame.f_locals.get("func")
        return getattr(func, "__code__", code)
    return code


def identify(frames: list[FrameType], user_index: int | None) -> tuple[Operation, FrameType]:
    """The operation named by ``frames`` (innermost first) and its entry frame.

    The entry frame is the library frame the user's frame called: it stays the same object
    for the whole call, so repeated checks inside one call are recognised as one.
    """
    stop = len(frames) if user_index is None else user_index
    user = frames[user_index] if user_index is not None else None
    entry_frame = frames[stop - 1] if stop else frames[0]
    for i in range(stop - 1, -1, -1):  # from the user's frame inwards
        found = _entry(_code_of(frames[i]))
        if found is not None:
            fact, describe = found
            match = Match(frames[i], outer=frames[i + 1 : stop], inner=frames[:i], user=user)
            return describe(fact, match), entry_frame
    name = entry_frame.f_code.co_qualname
    return (
        Operation(
            name=name,
            display=f"{name}()",
            code=UNMAPPED_SYNC_ACCESS,
            replacement=_WRAP,
            advice="(run the sync code in a function wrapped with sync_to_async)",
        ),
        entry_frame,
    )
