"""``AbstractBaseUser.save()`` is Django's own override: the plans mirror it natively.

Its tail tells the password validators that the password changed. Django's
validators do no I/O there, so with only them configured ``User.asave()`` and
``User.objects.acreate()`` run natively; a validator of the project's own may
do anything, so then the a-methods fall back to Django's stock method.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

import asyncorm_native

changed: list[tuple[str, Any]] = []


class RecordingValidator:
    """A project's validator: its password_changed() could do anything."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        changed.append((password, user.username))


@pytest.fixture
async def native(db_alias: str, zoo: set[str]) -> AsyncIterator[str]:
    asyncorm_native.install()
    asyncorm_native.reset_report()
    try:
        yield db_alias
    finally:
        await User.objects.db_manager(db_alias).filter(username__startswith="mirror-").adelete()
        asyncorm_native.uninstall()
        await asyncorm_native.close_pools()


async def test_user_asave_runs_natively_with_djangos_validators(native: str) -> None:
    user = User(username="mirror-a")
    user.set_password("s3cret pass")
    assert user._password is not None
    await user.asave(using=native)
    created = await User.objects.db_manager(native).acreate(username="mirror-b")
    assert user._password is None  # the mirrored tail ran
    mirrored = User.objects.db_manager(native).filter(username__startswith="mirror-")
    assert await mirrored.acount() == 2
    assert created.pk is not None
    report = asyncorm_native.report()
    assert report.native["Model.asave"] == 1 and report.native["acreate"] == 1
    assert "Model.asave" not in report.fallback and "acreate" not in report.fallback


async def test_user_asave_falls_back_with_a_projects_validator(native: str) -> None:
    changed.clear()
    validators = [{"NAME": f"{__name__}.RecordingValidator"}]
    with override_settings(AUTH_PASSWORD_VALIDATORS=validators):
        user = User(username="mirror-c")
        user.set_password("other pass")
        await user.asave(using=native)
    assert changed == [("other pass", "mirror-c")]  # Django's own save() told the validator
    assert user._password is None
    fallback = asyncorm_native.report().fallback["Model.asave"]
    assert fallback == {"User overrides save()": 1}
