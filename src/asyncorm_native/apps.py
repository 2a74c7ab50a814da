"""``INSTALLED_APPS = [..., "asyncorm_native"]``: installs the shim at startup when
``ASYNCORM_NATIVE = {"INSTALL": True}`` (the setting is validated either way)."""

from __future__ import annotations

from django.apps import AppConfig


class AsyncormNativeConfig(AppConfig):
    name = "asyncorm_native"
    verbose_name = "asyncorm native-async shim"

    def ready(self) -> None:
        from . import conf
        from .patching import install

        if conf.current().install:
            install()
