"""Runtime guard: catch sync ORM use and event-loop blocking in async Django as it happens.

Ways in: ``runtime_guard.middleware.AsyncORMGuardMiddleware`` (Django),
``runtime_guard.asgi.guard`` (any ASGI application) and the pytest plugin
``runtime_guard.pytest_plugin`` (``pytest --asyncorm-guard``). See docs/runtime-guard.md.
"""
