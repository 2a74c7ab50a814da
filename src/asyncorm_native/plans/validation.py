"""Async model validation: ``aclean_fields()``, ``aclean()``, ``avalidate_unique()``,
``avalidate_constraints()``, ``afull_clean()`` (Django has no async validation).

Django's own validation methods only read (``ForeignKey.validate()``'s
existence check, the uniqueness and constraint queries), so they run unchanged
under replay with their queries fetched natively. A model's own ``clean()``
(user code) runs through ``sync_to_async``, as Django's stock code would run it
from async code; so does every validation method a model overrides.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import router
from django.db.models import Model

from ..steps import Plan
from .intercept import replay

#: The methods ``validate_unique()`` is made of: a model overriding one validates with its code.
UNIQUE_TWINS = (
    "validate_unique",
    "_get_unique_checks",
    "_perform_unique_checks",
    "_perform_date_checks",
)


def alias_of(obj: Any) -> str:
    """The database validation queries read from (Django's read router)."""
    return router.db_for_read(type(obj), instance=obj)


def clean_fields(obj: Any, exclude: Any) -> Plan[None]:
    """``Model.clean_fields()``; its queries (``ForeignKey.validate()``) run natively."""
    return (yield from replay(obj.clean_fields, exclude=exclude))


def validate_unique(obj: Any, exclude: Any) -> Plan[None]:
    """``Model.validate_unique()``; its uniqueness queries run natively."""
    return (yield from replay(obj.validate_unique, exclude=exclude))


def validate_constraints(obj: Any, exclude: Any) -> Plan[None]:
    """``Model.validate_constraints()``; the constraints' queries run natively."""
    return (yield from replay(obj.validate_constraints, exclude=exclude))


async def stock(method: Any, **kwargs: Any) -> None:
    """A validation method run as stock async code runs sync code: through ``sync_to_async``."""
    return await sync_to_async(method)(**kwargs)


async def clean(obj: Any) -> None:
    """``Model.clean()``: nothing for Django's own, ``sync_to_async`` for an override."""
    if type(obj).clean is not Model.clean:
        await sync_to_async(obj.clean)()


async def full_clean(
    obj: Any, exclude: Any, validate_unique: bool, validate_constraints: bool
) -> None:
    """Mirrors ``Model.full_clean()`` with the async methods above."""
    if type(obj).full_clean is not Model.full_clean:
        await sync_to_async(obj.full_clean)(
            exclude=exclude,
            validate_unique=validate_unique,
            validate_constraints=validate_constraints,
        )
        return
    errors: dict[str, Any] = {}
    exclude = set() if exclude is None else set(exclude)

    try:
        await obj.aclean_fields(exclude=exclude)
    except ValidationError as e:
        errors = e.update_error_dict(errors)

    try:
        await obj.aclean()
    except ValidationError as e:
        errors = e.update_error_dict(errors)

    if validate_unique:
        for name in errors:
            if name != NON_FIELD_ERRORS and name not in exclude:
                exclude.add(name)
        try:
            await obj.avalidate_unique(exclude=exclude)
        except ValidationError as e:
            errors = e.update_error_dict(errors)

    if validate_constraints:
        for name in errors:
            if name != NON_FIELD_ERRORS and name not in exclude:
                exclude.add(name)
        try:
            await obj.avalidate_constraints(exclude=exclude)
        except ValidationError as e:
            errors = e.update_error_dict(errors)

    if errors:
        raise ValidationError(errors)
