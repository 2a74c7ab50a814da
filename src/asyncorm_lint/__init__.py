"""asyncorm-lint: find sync Django ORM work reachable from async code and name the async fix.

Importing this package is cheap (no libcst, no Django): the runtime guard reads
:mod:`asyncorm_lint.django_api` without pulling in the analyzer.
"""

__version__ = "0.1.0"
