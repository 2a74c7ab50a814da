"""DJA8xx: Django APIs with no async form at all, used in async code."""

from __future__ import annotations

import libcst as cst

from ..django_api import SYNC_ONLY
from ..expressions import describe, last_name
from ..values import V
from .base import Rule, RuleDoc, register

NOTES = {f.code: f.note for f in SYNC_ONLY}
ATOMIC = {"django.db.transaction.atomic", "django.db.transaction.Atomic"}
PAGINATOR_METHODS = {"page", "get_page"}
PAGINATOR_ATTRIBUTES = {"count", "num_pages", "page_range"}
FORM_METHODS = {"is_valid", "save", "full_clean", "validate_unique"}
VALIDATION = {"full_clean", "validate_unique", "validate_constraints"}
SERIALIZERS = (V.SERIALIZER, V.QUERYSET_SERIALIZER)
SERIALIZER_METHODS = {
    "is_valid": "runs validators that query the database",
    "save": "writes to the database",
}
CONTENT_TYPE = "django.contrib.contenttypes.models.ContentType"
CONTENT_TYPE_LOOKUPS = {"get_for_model", "get_for_models", "get_for_id"}
WRAP = "await sync_to_async(fn)() around a sync function"
FACTORY_FUNCTIONS = {
    f"{f.module}.{f.name}" for f in SYNC_ONLY if f.code == "DJA808" and f.name[0].islower()
}


@register
class SyncOnlyApis(Rule):
    """No async twin exists: the whole block has to move into a sync function."""

    codes = {
        "DJA801": 'transaction.atomic in async function "{func}" has no async form: {fix}',
        "DJA802": '{what} in async function "{func}": {fix}',
        "DJA803": '{what} in async function "{func}" queries the database: {fix}',
        "DJA804": '{what} in async function "{func}" queries the database: {fix}',
        "DJA805": '{what} in async function "{func}" runs validation queries: {fix}',
        "DJA806": '{what} in async function "{func}" may query the database: {fix}',
        "DJA807": '{what} in async function "{func}": {fix}',
        "DJA808": '{what} in async function "{func}" saves rows synchronously: use "{fix}"',
        "DJA809": 'DRF serializer {what} in async function "{func}" {why}: {fix}',
    }
    docs = {
        "DJA801": RuleDoc(
            "transaction.atomic in async code",
            "Django has no async transactions: atomic() opens the transaction on Django's "
            "sync connection, and the a-methods inside run in other threads. Move the block "
            "into a sync function and call it with sync_to_async (or use the native shim's "
            "asyncorm_native.atomic).",
            "async def pay(request):\n    with transaction.atomic():\n        ...",
            "@transaction.atomic\ndef _pay(): ...\n\nasync def pay(request):\n"
            "    await sync_to_async(_pay)()",
            manual="no async form: move the block into a sync function",
        ),
        "DJA802": RuleDoc(
            "connection.cursor() in async code",
            "Raw cursors are sync-only.",
            'with connection.cursor() as c:\n    c.execute("...")',
            "await sync_to_async(run_raw_sql)()",
            manual="no async form: move the block into a sync function",
        ),
        "DJA803": RuleDoc(
            "Paginator over a QuerySet in async code",
            "page()/get_page()/count/num_pages run COUNT and slice queries synchronously "
            "(AsyncPaginator arrives only in Django 6.0).",
            "page = Paginator(qs, 25).get_page(n)",
            "page = await sync_to_async(Paginator(qs, 25).get_page)(n)",
            manual="no async form: move the block into a sync function",
        ),
        "DJA804": RuleDoc(
            "ModelForm validation or save in async code",
            "is_valid()/errors run uniqueness queries and save() writes.",
            "if form.is_valid():\n    form.save()",
            "if await sync_to_async(form.is_valid)():\n    await sync_to_async(form.save)()",
            manual="no async form: move the block into a sync function",
        ),
        "DJA805": RuleDoc(
            "Model validation in async code",
            "full_clean()/validate_unique()/validate_constraints() run queries.",
            "article.full_clean()",
            "await sync_to_async(article.full_clean)()",
            manual="no async form: move the block into a sync function",
        ),
        "DJA806": RuleDoc(
            "ContentType lookup in async code",
            "get_for_model()/get_for_id() query on a cache miss.",
            "ct = ContentType.objects.get_for_model(Article)",
            "ct = await sync_to_async(ContentType.objects.get_for_model)(Article)",
            manual="no async form: move the block into a sync function",
        ),
        "DJA807": RuleDoc(
            "select_for_update in async code",
            "Row locks need transaction.atomic(), which has no async form.",
            "row = await Account.objects.select_for_update().aget(pk=pk)",
            "await sync_to_async(lock_and_update)(pk)",
            manual="no async form: move the block into a sync function",
        ),
        "DJA808": RuleDoc(
            "Test-data factory in async code",
            "model_bakery's baker.make() and factory_boy's DjangoModelFactory (calling the "
            "factory, .create(), .create_batch()) save rows with the sync ORM: in an async "
            "test they raise SynchronousOnlyOperation. .build()/prepare() do not touch the "
            "database and are not reported.",
            "async def test_profile():\n    user = UserFactory()",
            "async def test_profile():\n    user = await sync_to_async(UserFactory)()",
            manual="the factory has no async form: wrap the call",
        ),
        "DJA809": RuleDoc(
            "DRF serializer work in async code",
            "Django REST framework's serializers are sync: a model serializer's is_valid() "
            "runs validators that query (unique fields, related fields), save() writes, and "
            ".data over a queryset evaluates it. Reported for model serializers defined in the "
            "module, for serializers imported from the project's serializers modules, and for "
            "any serializer given a lazy queryset. Not reported in sync views.",
            "async def post(self, request):\n"
            "    s = OrderSerializer(data=request.data)\n    s.is_valid(raise_exception=True)",
            "def _create(data):\n    s = OrderSerializer(data=data)\n"
            "    s.is_valid(raise_exception=True)\n    return s.save()\n\n"
            "async def post(self, request):\n"
            "    order = await sync_to_async(_create)(request.data)",
            manual="DRF has no async form: move the serializer work into a sync function",
        ),
    }

    def _atomic(self, node: cst.BaseExpression) -> bool:
        target = node.func if isinstance(node, cst.Call) else node
        return self.ctx.qualify(target) in ATOMIC

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if self._atomic(node.item):
            self.ctx.claim(node.item)
            self.error("DJA801", node, None, fix=NOTES["DJA801"])

    def visit_Decorator(self, node: cst.Decorator) -> None:
        if self._atomic(node.decorator):
            self.error("DJA801", node, None, fix=NOTES["DJA801"])

    def visit_Call(self, node: cst.Call) -> None:
        if self._atomic(node):
            self.error("DJA801", node, None, fix=NOTES["DJA801"])
            return
        factory = self._factory_call(node)
        if factory:
            self.error(
                "DJA808",
                node,
                None,
                what=f"{describe(node.func)}()",
                fix=f"await sync_to_async({factory})(...)",
            )
            return
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method == "cursor" and self._is_connection(func.value):
            self.error(
                "DJA802", node, None, what=f"{describe(func)}()", fix=f"{NOTES['DJA802']}: {WRAP}"
            )
            return
        receiver = self.ctx.infer(func.value)
        if receiver is None:
            return
        what = f"{describe(func)}()"
        if receiver.kind is V.PAGINATOR and method in PAGINATOR_METHODS:
            self.error("DJA803", node, None, what=what, fix=WRAP)
        elif receiver.kind is V.MODEL_FORM and method in FORM_METHODS:
            self.error("DJA804", node, None, what=what, fix=f"{NOTES['DJA804']}; {WRAP}")
        elif receiver.kind in SERIALIZERS and method in SERIALIZER_METHODS:
            why = SERIALIZER_METHODS[method]
            self.error("DJA809", node, None, what=what, why=why, fix=WRAP)
        elif receiver.kind is V.INSTANCE and method in VALIDATION:
            self.error("DJA805", node, None, what=what, fix=WRAP)
        elif (
            receiver.kind is V.MANAGER
            and method in CONTENT_TYPE_LOOKUPS
            and receiver.model == CONTENT_TYPE
        ):
            self.error("DJA806", node, None, what=what, fix=WRAP)
        elif receiver.is_queryset_like and method == "select_for_update":
            self.error("DJA807", node, None, what=what, fix=f"{NOTES['DJA807']}; {WRAP}")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if attr not in PAGINATOR_ATTRIBUTES and attr not in ("errors", "data"):
            return
        receiver = self.ctx.infer(node.value)
        if receiver is None:
            return
        if receiver.kind is V.PAGINATOR and attr in PAGINATOR_ATTRIBUTES:
            self.error("DJA803", node, None, what=describe(node), fix=WRAP)
        elif receiver.kind is V.MODEL_FORM and attr == "errors":
            self.error("DJA804", node, None, what=describe(node), fix=f"{NOTES['DJA804']}; {WRAP}")
        elif receiver.kind is V.QUERYSET_SERIALIZER and attr == "data":
            why = "evaluates the lazy queryset it was given"
            self.error("DJA809", node, None, what=describe(node), why=why, fix=WRAP)

    def _factory_call(self, node: cst.Call) -> str | None:
        """``baker.make(...)``, ``UserFactory(...)``, ``UserFactory.create(...)``: the callable."""
        func = node.func
        if self.ctx.qualify(func) in FACTORY_FUNCTIONS:
            return describe(func)
        target = func
        if isinstance(func, cst.Attribute) and func.attr.value in ("create", "create_batch"):
            target = func.value
        name = last_name(target) if isinstance(target, cst.Name | cst.Attribute) else None
        if not name or not name.endswith("Factory"):
            return None
        origin = self.ctx.qualify(target) or ""
        local = self.ctx.summary.classes.get(name)
        is_model_factory = (
            local is not None and any(b.endswith("ModelFactory") for b in local.bases)
        ) or ("factor" in origin.rpartition(".")[0])
        return describe(func) if is_model_factory else None

    def _is_connection(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Subscript):
            node = node.value
        return self.ctx.qualify(node) in ("django.db.connection", "django.db.connections")
