from django.apps import AppConfig


class ZooConfig(AppConfig):
    name = "tests.native.zoo"
    label = "zoo"
    default_auto_field = "django.db.models.BigAutoField"
