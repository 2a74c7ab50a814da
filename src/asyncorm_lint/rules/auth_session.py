"""DJA5xx: ``request.user``, auth functions, password/permission checks and session access.

Each loads the user or the session from the database on first use.
"""

from __future__ import annotations

import libcst as cst

from ..django_api import (
    AUTH_FUNCTIONS,
    HASHER_FUNCTIONS,
    REQUEST_ATTRIBUTES,
    SESSION_METHODS,
    USER_MANAGER_METHODS,
    USER_METHODS,
    Fact,
)
from ..expressions import describe, dotted_name
from ..fixes import AwaitFunction
from ..scope import MISSING
from ..values import V, Value
from .base import Rule, RuleDoc, register

AUTH = {f"{f.module}.{f.name}": f for f in [*AUTH_FUNCTIONS, *HASHER_FUNCTIONS]}
USER = {f.name: f for f in USER_METHODS}
USER_MANAGER = {f.name: f for f in USER_MANAGER_METHODS}
SESSION = {f.name: f for f in SESSION_METHODS}
# The facts for ``session[key]``, ``del session[key]`` and ``key in session``: operators,
# not methods (``request.session.contains()`` is no session method, nothing to rewrite).
SESSION_OPERATORS = frozenset({"getitem", "setitem", "delitem", "contains"})
REQUEST_USER = REQUEST_ATTRIBUTES[0]
AUTH_MIXINS = {
    f"django.contrib.auth.mixins.{name}"
    for name in ("LoginRequiredMixin", "PermissionRequiredMixin", "UserPassesTestMixin")
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}


@register
class AuthAndSession(Rule):
    """The authenticated user and the session live in the database."""

    codes = {
        "DJA501": '{what} in async function "{func}" loads the user synchronously: use "{fix}"',
        "DJA502": '{what} in async function "{func}": use "{fix}"',
        "DJA503": '{what} in async function "{func}": use "{fix}"',
        "DJA504": '{what} in async function "{func}": use "{fix}"',
        "DJA505": 'session access {what} in async function "{func}" loads the session '
        'synchronously: use "{fix}"',
        "DJA506": "{mixin} reads request.user synchronously in dispatch(), before the async "
        'handler {handlers} of "{view}" runs: drop the mixin and check '
        '"user = await request.auser()" in the handler',
    }
    docs = {
        "DJA501": RuleDoc(
            "request.user in async code",
            "request.user is a SimpleLazyObject: its first use loads the session and the user "
            "synchronously. Django 5.0 added request.auser(). Not reported after request.user "
            "was assigned in the same function, for non-Django request objects (Starlette, "
            "FastAPI...) or in DRF/adrf views (they authenticate before the handler).",
            "if request.user.is_authenticated: ...",
            "user = await request.auser()\nif user.is_authenticated: ...",
            manual="request.user may be read several times: resolve it once with "
            "await request.auser()",
        ),
        "DJA502": RuleDoc(
            "Sync auth function in async code",
            "authenticate, login, logout, get_user and update_session_auth_hash from "
            "django.contrib.auth query synchronously; their a-forms exist since Django 5.0.",
            "user = authenticate(request, username=u, password=p)\nlogin(request, user)",
            "user = await aauthenticate(request, username=u, password=p)\n"
            "await alogin(request, user)",
            autofix=True,
        ),
        "DJA503": RuleDoc(
            "check_password in async code",
            "user.check_password() and hashers.check_password() may save an upgraded hash "
            "synchronously; acheck_password exists since Django 5.0.",
            "ok = user.check_password(raw)",
            "ok = await user.acheck_password(raw)",
            autofix=True,
        ),
        "DJA504": RuleDoc(
            "Permission checks and user-manager methods in async code",
            "has_perm/has_perms/has_module_perms/get_*_permissions load permissions, and "
            "create_user/create_superuser/get_by_natural_key write or query; their a-forms "
            "exist since Django 5.2.",
            'if user.has_perm("blog.change_post"): ...',
            'if await user.ahas_perm("blog.change_post"): ...',
            autofix=True,
        ),
        "DJA505": RuleDoc(
            "Session access in async code",
            "The session is loaded on first use (a query with the default database backend). "
            "Django 5.1 added aget/aset/apop/ahas_key/aflush/acycle_key...",
            'cart = request.session.get("cart")',
            'cart = await request.session.aget("cart")',
            autofix=True,
            manual="request.session[key] forms are left to you: reads become aget(key), "
            "writes aset(key, value), deletions apop(key)",
        ),
        "DJA506": RuleDoc(
            "Auth mixin on a view with async handlers",
            "LoginRequiredMixin, PermissionRequiredMixin and UserPassesTestMixin check "
            "request.user in their sync dispatch(). For a view whose handlers are async, "
            "dispatch() runs on the event loop, so the first request without a cached user "
            "raises SynchronousOnlyOperation. Django has no async form of these mixins.",
            "class Feed(LoginRequiredMixin, View):\n    async def get(self, request): ...",
            "class Feed(View):\n    async def get(self, request):\n"
            "        user = await request.auser()\n"
            "        if not user.is_authenticated:\n"
            "            return redirect_to_login(request.get_full_path())",
            manual="the access check moves into the handler",
        ),
    }

    def finish(self) -> None:
        for statement in self.ctx.module.body:
            if isinstance(statement, cst.ClassDef):
                self._auth_mixin(statement)

    def _auth_mixin(self, node: cst.ClassDef) -> None:
        """DJA506: Django's auth mixins are sync; their dispatch() precedes async handlers."""
        mixin = next(
            (b.value for b in node.bases if self.ctx.qualify(b.value) in AUTH_MIXINS), None
        )
        if mixin is None or not isinstance(node.body, cst.IndentedBlock):
            return
        handlers = [
            f"{s.name.value}()"
            for s in node.body.body
            if isinstance(s, cst.FunctionDef)
            and s.asynchronous is not None
            and s.name.value in HTTP_METHODS
        ]
        if handlers:
            self.error(
                "DJA506",
                mixin,
                anywhere=True,
                mixin=describe(mixin),
                handlers=", ".join(handlers),
                view=node.name.value,
            )

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value != "user":
            return
        parent = self.ctx.parent(node)
        if isinstance(parent, cst.AssignTarget | cst.Del):
            return
        if isinstance(parent, cst.Arg) and self._handed_to_thread(parent):
            return
        owner = self.ctx.infer(node.value)
        if owner is None or owner.kind is not V.REQUEST:
            return
        dotted = dotted_name(node)
        if dotted is not None and self.ctx.frame.lookup(dotted) is not MISSING:
            return  # request.user was assigned earlier in this function
        if dotted is not None:  # resolved once, the lazy user is cached on the request
            self.ctx.frame.bind_state(dotted, Value(V.INSTANCE, self.ctx.index.user_model))
        request = describe(node.value)
        if REQUEST_USER.available(self.version):
            fix = f"user = await {request}.auser()"
        else:
            fix = f"user = await sync_to_async(get_user)({request})"
        self.error("DJA501", node, None, what=describe(node), fix=fix)

    def _handed_to_thread(self, arg: cst.Arg) -> bool:
        """``await sync_to_async(f)(request.user)``: the lazy user is resolved in the thread."""
        call = self.ctx.parent(arg)
        return (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Call)
            and self.ctx.is_wrapper(call.func.func)
        )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value == "getattr" and len(node.args) >= 2:
            self._getattr_user(node)
            return
        qualified = self.ctx.qualify(func) or ""
        fact = AUTH.get(qualified)
        if fact is not None:
            if self.ctx.is_awaited(node):
                return
            rewrite = (
                AwaitFunction(node, str(fact.replacement), str(fact.module), fact.name)
                if fact.available(self.version)
                else None
            )
            self.error(
                fact.code,
                node,
                rewrite,
                what=f"{describe(func)}()",
                fix=self.function_fix(func, fact, node),
            )
            return
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        receiver = self.ctx.infer(func.value)
        if receiver is None:
            return
        if receiver.kind in (V.INSTANCE, V.LAZY_USER) and method in USER:
            fact = USER[method]
        elif receiver.kind is V.MANAGER and method in USER_MANAGER:
            fact = USER_MANAGER[method]
        elif receiver.kind is V.SESSION and method in SESSION and method not in SESSION_OPERATORS:
            fact = SESSION[method]
        else:
            return
        self.report_method_call(node, func, fact)

    def _getattr_user(self, node: cst.Call) -> None:
        """``getattr(request, "user", None)``: the same lazy user as ``request.user``."""
        name = node.args[1].value
        if not (isinstance(name, cst.SimpleString) and name.evaluated_value == "user"):
            return
        owner = self.ctx.infer(node.args[0].value)
        if owner is None or owner.kind is not V.REQUEST:
            return
        request = describe(node.args[0].value)
        dotted = f"{request}.user"
        if self.ctx.frame.lookup(dotted) is not MISSING:
            return
        self.ctx.frame.bind_state(dotted, Value(V.INSTANCE, self.ctx.index.user_model))
        fix = (
            f"user = await {request}.auser()"
            if REQUEST_USER.available(self.version)
            else f"user = await sync_to_async(get_user)({request})"
        )
        self.error("DJA501", node, None, what=f'getattr({request}, "user")', fix=fix)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        receiver = self.ctx.infer(node.value)
        if receiver is None or receiver.kind is not V.SESSION:
            return
        parent = self.ctx.parent(node)
        grand = self.ctx.parent(parent) if parent is not None else None
        if isinstance(parent, cst.AssignTarget):
            fact = SESSION["setitem"]
        elif isinstance(parent, cst.Del) or isinstance(grand, cst.Del):
            fact = SESSION["delitem"]
        else:
            fact = SESSION["getitem"]
        self._session(node, fact)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for target in node.comparisons:
            if isinstance(target.operator, cst.In | cst.NotIn):
                receiver = self.ctx.infer(target.comparator)
                if receiver is not None and receiver.kind is V.SESSION:
                    self._session(node, SESSION["contains"])

    def _session(self, node: cst.CSTNode, fact: Fact) -> None:
        fix = (
            str(fact.replacement)
            if fact.available(self.version)
            else "await sync_to_async(lambda: ...)() around the session access"
        )
        self.error("DJA505", node, None, what=describe(node), fix=fix)
