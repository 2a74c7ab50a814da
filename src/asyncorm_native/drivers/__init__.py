"""Drivers run plans: ``base`` (the async loop), ``postgres`` and ``sqlite`` (async pools),
``django_sync`` (Django's own connection, for tests and for a caller's open transaction)."""
