"""Facts about Django's sync and async database API: the single source of truth.

Read by the linter's rules, the codemod, the runtime guard's reports and the docs
generator. Data only: a new Django release is one edit here.

Each :class:`Fact` names one sync entry point, what kind of thing it is, the async
replacement (or ``None`` when Django has none: wrap with ``sync_to_async``), the
Django version that added the replacement, and the DJA code that reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

Version = tuple[int, int]

LATEST_LTS: Version = (5, 2)
SYNC_TO_ASYNC = "await sync_to_async({callable})({args})"


class Kind(StrEnum):
    """What kind of sync entry point a fact describes."""

    QUERYSET_METHOD = "queryset method"  # QuerySet / Manager / related-manager read+write
    SHORTCUT = "shortcut function"  # django.shortcuts
    PREFETCH_FUNCTION = "prefetch function"  # django.db.models.prefetch_related_objects
    EVALUATION = "queryset evaluation"  # for / list() / len() / bool() / [i] / in
    MODEL_METHOD = "model method"  # instance.save() ...
    RELATED_MANAGER_METHOD = "related manager method"  # obj.tags.add() ...
    RELATION_ACCESS = "lazy relation access"  # obj.author (not fetched)
    AUTH_FUNCTION = "auth function"  # django.contrib.auth.login ...
    REQUEST_ATTRIBUTE = "request attribute"  # request.user
    USER_METHOD = "user method"  # user.check_password / has_perm ...
    USER_MANAGER_METHOD = "user manager method"  # User.objects.create_user ...
    HASHER_FUNCTION = "hasher function"  # django.contrib.auth.hashers.check_password
    SESSION_METHOD = "session method"  # request.session.get ...
    SYNC_ONLY = "sync-only API"  # no async form at all


@dataclass(frozen=True)
class Fact:
    """One sync entry point and its async replacement."""

    name: str
    kind: Kind
    code: str
    replacement: str | None
    since: Version | None = None
    module: str | None = None
    note: str = ""

    def available(self, target: Version) -> bool:
        """True when the async replacement exists in Django ``target``."""
        return self.replacement is not None and (self.since is None or self.since <= target)


def _facts(kind: Kind, code: str, since: Version | None, names: str, **kw: str) -> list[Fact]:
    """Facts whose replacement is the same name with an ``a`` prefix."""
    return [Fact(n, kind, code, "a" + n, since, **kw) for n in names.split()]


# --- QuerySet / Manager -----------------------------------------------------------
QUERYSET_METHODS: list[Fact] = _facts(
    Kind.QUERYSET_METHOD,
    "DJA101",
    (4, 1),
    "get create get_or_create update_or_create bulk_create bulk_update count in_bulk"
    " iterator latest earliest first last aggregate exists contains update delete explain",
)

# Methods that build a new lazy QuerySet: safe to call anywhere.
QUERYSET_BUILDERS: frozenset[str] = frozenset(
    [
        "all",
        "filter",
        "exclude",
        "order_by",
        "reverse",
        "distinct",
        "select_related",
        "prefetch_related",
        "annotate",
        "alias",
        "values",
        "values_list",
        "dates",
        "datetimes",
        "none",
        "union",
        "intersection",
        "difference",
        "only",
        "defer",
        "using",
        "select_for_update",
        "extra",
        "complex_filter",
        "raw",
        "get_queryset",
    ]
)
# Builders whose rows are not model instances.
VALUES_BUILDERS: frozenset[str] = frozenset({"values", "values_list", "dates", "datetimes"})

# Sync methods (and their a-twins) that return one model instance.
INSTANCE_RETURNING: frozenset[str] = frozenset(
    {
        "get",
        "create",
        "first",
        "last",
        "latest",
        "earliest",
        "aget",
        "acreate",
        "afirst",
        "alast",
        "alatest",
        "aearliest",
        "create_user",
        "create_superuser",
        "acreate_user",
        "acreate_superuser",
        "get_by_natural_key",
        "aget_by_natural_key",
    }
)
# Methods returning ``(instance, created)``.
INSTANCE_PAIR_RETURNING: frozenset[str] = frozenset(
    {"get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create"}
)

# --- Shortcuts ----------------------------------------------------------------------
SHORTCUTS: list[Fact] = _facts(
    Kind.SHORTCUT, "DJA102", (5, 0), "get_object_or_404 get_list_or_404", module="django.shortcuts"
)
PREFETCH_FUNCTIONS: list[Fact] = _facts(
    Kind.PREFETCH_FUNCTION, "DJA103", (5, 0), "prefetch_related_objects", module="django.db.models"
)

# --- Queryset evaluation (no a-method: ``async for`` or an a-method with other semantics)
EVALUATIONS: list[Fact] = [
    Fact("for", Kind.EVALUATION, "DJA201", "async for", (4, 1)),
    Fact(
        "list",
        Kind.EVALUATION,
        "DJA202",
        "[x async for x in qs]",
        (4, 1),
        note="list()/tuple()/set()/sorted()/dict() materialize the queryset",
    ),
    Fact(
        "len",
        Kind.EVALUATION,
        "DJA203",
        "await qs.acount()",
        (4, 1),
        note="len() fetches and caches every row; acount() runs SELECT COUNT(*)",
    ),
    Fact(
        "bool",
        Kind.EVALUATION,
        "DJA204",
        "await qs.aexists()",
        (4, 1),
        note="a truth test fetches every row; aexists() runs a LIMIT 1 query",
    ),
    Fact(
        "getitem",
        Kind.EVALUATION,
        "DJA205",
        "await qs.afirst()",
        (4, 1),
        note="qs[0] is qs[0:1].get(); afirst() also orders by pk when unordered",
    ),
    Fact("contains", Kind.EVALUATION, "DJA206", "await qs.acontains(obj)", (4, 1)),
    Fact("unpack", Kind.EVALUATION, "DJA207", "[x async for x in qs]", (4, 1)),
    Fact(
        "consumer",
        Kind.EVALUATION,
        "DJA208",
        "[x async for x in qs]",
        (4, 1),
        note="render()/render_to_string()/serialize() evaluate the queryset synchronously",
    ),
    Fact(
        "repr",
        Kind.EVALUATION,
        "DJA209",
        "[x async for x in qs]",
        (4, 1),
        note="repr()/str()/print()/f-strings evaluate the first rows",
    ),
]

# --- Model instances ------------------------------------------------------------------
MODEL_METHODS: list[Fact] = [
    Fact("save", Kind.MODEL_METHOD, "DJA301", "asave", (4, 2)),
    Fact("delete", Kind.MODEL_METHOD, "DJA302", "adelete", (4, 2)),
    Fact("refresh_from_db", Kind.MODEL_METHOD, "DJA303", "arefresh_from_db", (4, 2)),
]
RELATED_MANAGER_METHODS: list[Fact] = [
    *_facts(Kind.RELATED_MANAGER_METHOD, "DJA304", (4, 1), "create get_or_create update_or_create"),
    *_facts(Kind.RELATED_MANAGER_METHOD, "DJA304", (4, 2), "add remove clear set"),
]
RELATION_ACCESS: list[Fact] = [
    Fact(
        "forward",
        Kind.RELATION_ACCESS,
        "DJA401",
        None,
        note="add select_related() to the query that fetched the instance",
    ),
    Fact(
        "reverse_one_to_one",
        Kind.RELATION_ACCESS,
        "DJA402",
        None,
        note="add select_related() to the query that fetched the instance",
    ),
    Fact(
        "deferred",
        Kind.RELATION_ACCESS,
        "DJA403",
        None,
        note="drop the field from only()/defer() or fetch it with arefresh_from_db(fields=[...])",
    ),
]

# --- Auth and sessions ------------------------------------------------------------------
AUTH_FUNCTIONS: list[Fact] = _facts(
    Kind.AUTH_FUNCTION,
    "DJA502",
    (5, 0),
    "authenticate login logout get_user update_session_auth_hash",
    module="django.contrib.auth",
)
REQUEST_ATTRIBUTES: list[Fact] = [
    Fact("user", Kind.REQUEST_ATTRIBUTE, "DJA501", "await request.auser()", (5, 0)),
]
USER_METHODS: list[Fact] = [
    Fact("check_password", Kind.USER_METHOD, "DJA503", "acheck_password", (5, 0)),
    *_facts(
        Kind.USER_METHOD,
        "DJA504",
        (5, 2),
        "has_perm has_perms has_module_perms get_user_permissions"
        " get_group_permissions get_all_permissions",
    ),
]
USER_MANAGER_METHODS: list[Fact] = _facts(
    Kind.USER_MANAGER_METHOD, "DJA504", (5, 2), "create_user create_superuser get_by_natural_key"
)
HASHER_FUNCTIONS: list[Fact] = _facts(
    Kind.HASHER_FUNCTION, "DJA503", (5, 0), "check_password", module="django.contrib.auth.hashers"
)
SESSION_METHODS: list[Fact] = [
    *_facts(
        Kind.SESSION_METHOD,
        "DJA505",
        (5, 1),
        "get pop setdefault update has_key keys values items flush cycle_key"
        " set_expiry get_expiry_age get_expiry_date set_test_cookie test_cookie_worked"
        " delete_test_cookie save",
    ),
    Fact("getitem", Kind.SESSION_METHOD, "DJA505", "await request.session.aget(key)", (5, 1)),
    Fact(
        "setitem", Kind.SESSION_METHOD, "DJA505", "await request.session.aset(key, value)", (5, 1)
    ),
    Fact("delitem", Kind.SESSION_METHOD, "DJA505", "await request.session.apop(key)", (5, 1)),
    Fact("contains", Kind.SESSION_METHOD, "DJA505", "await request.session.ahas_key(key)", (5, 1)),
]

# --- No async form at all ---------------------------------------------------------------
SYNC_ONLY: list[Fact] = [
    Fact(
        "atomic",
        Kind.SYNC_ONLY,
        "DJA801",
        None,
        module="django.db.transaction",
        note="move the transactional block into a sync function and await sync_to_async(fn)()",
    ),
    Fact(
        "cursor",
        Kind.SYNC_ONLY,
        "DJA802",
        None,
        module="django.db",
        note="run raw SQL in a sync function wrapped with sync_to_async",
    ),
    Fact(
        "Paginator",
        Kind.SYNC_ONLY,
        "DJA803",
        None,
        module="django.core.paginator",
        note="page()/get_page()/count/num_pages query the database",
    ),
    Fact(
        "ModelForm",
        Kind.SYNC_ONLY,
        "DJA804",
        None,
        module="django.forms",
        note="is_valid() runs uniqueness queries and save() writes",
    ),
    *[
        Fact(
            n,
            Kind.SYNC_ONLY,
            "DJA805",
            None,
            note="validation runs uniqueness and constraint queries",
        )
        for n in ("full_clean", "validate_unique", "validate_constraints")
    ],
    *[
        Fact(
            n,
            Kind.SYNC_ONLY,
            "DJA806",
            None,
            module="django.contrib.contenttypes.models",
            note="ContentType lookups may query on a cache miss",
        )
        for n in ("get_for_model", "get_for_models", "get_for_id")
    ],
    Fact(
        "select_for_update",
        Kind.SYNC_ONLY,
        "DJA807",
        None,
        note="row locks need transaction.atomic(), which has no async form",
    ),
    *[
        Fact(
            n,
            Kind.SYNC_ONLY,
            "DJA808",
            None,
            module=m,
            note="test-data factories save rows synchronously",
        )
        for m, n in (
            ("model_bakery.baker", "make"),
            ("model_bakery.baker", "make_recipe"),
            ("model_mommy.mommy", "make"),
            ("factory.django", "DjangoModelFactory"),
        )
    ],
    Fact(
        "ModelSerializer",
        Kind.SYNC_ONLY,
        "DJA809",
        None,
        module="rest_framework.serializers",
        note="is_valid() runs validators that query (unique fields, related fields), save() "
        "writes, and .data over a queryset evaluates it",
    ),
]

ALL_FACTS: list[Fact] = [
    *QUERYSET_METHODS,
    *SHORTCUTS,
    *PREFETCH_FUNCTIONS,
    *EVALUATIONS,
    *MODEL_METHODS,
    *RELATED_MANAGER_METHODS,
    *RELATION_ACCESS,
    *AUTH_FUNCTIONS,
    *REQUEST_ATTRIBUTES,
    *USER_METHODS,
    *USER_MANAGER_METHODS,
    *HASHER_FUNCTIONS,
    *SESSION_METHODS,
    *SYNC_ONLY,
]


def by_kind(kind: Kind) -> dict[str, Fact]:
    """Facts of one kind, keyed by sync name."""
    return {f.name: f for f in ALL_FACTS if f.kind is kind}


def parse_version(text: str) -> Version:
    """Parse ``"5.0"`` / ``"4.2.11"`` into ``(5, 0)``; raise ValueError with a clear message."""
    parts = text.strip().split(".")
    try:
        major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except (ValueError, IndexError):
        raise ValueError(
            f"invalid Django version {text!r}: expected MAJOR.MINOR such as 5.2"
        ) from None
    if major < 3:
        raise ValueError(f"invalid Django version {text!r}: async views need Django 3.1 or newer")
    return (major, minor)
