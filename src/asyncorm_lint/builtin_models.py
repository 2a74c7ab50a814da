"""Django's own contrib models, written as source the summarizer reads like user code.

Only what the analysis needs: relation fields, plain field names, managers.
"""

from __future__ import annotations

BUILTIN_SOURCES: dict[str, str] = {
    "django.contrib.contenttypes.models": """
from django.db import models
class ContentTypeManager(models.Manager):
    pass
class ContentType(models.Model):
    app_label = models.CharField()
    model = models.CharField()
    objects = ContentTypeManager()
""",
    "django.contrib.auth.base_user": """
from django.db import models
class BaseUserManager(models.Manager):
    pass
class AbstractBaseUser(models.Model):
    password = models.CharField()
    last_login = models.DateTimeField()
    class Meta:
        abstract = True
""",
    "django.contrib.auth.models": """
from django.db import models
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.contenttypes.models import ContentType
class Permission(models.Model):
    name = models.CharField()
    content_type = models.ForeignKey(ContentType)
    codename = models.CharField()
class Group(models.Model):
    name = models.CharField()
    permissions = models.ManyToManyField(Permission)
class UserManager(BaseUserManager):
    pass
class PermissionsMixin(models.Model):
    is_superuser = models.BooleanField()
    groups = models.ManyToManyField(Group, related_name="user_set")
    user_permissions = models.ManyToManyField(Permission, related_name="user_set")
    class Meta:
        abstract = True
class AbstractUser(AbstractBaseUser, PermissionsMixin):
    username = models.CharField()
    first_name = models.CharField()
    last_name = models.CharField()
    email = models.EmailField()
    is_staff = models.BooleanField()
    is_active = models.BooleanField()
    date_joined = models.DateTimeField()
    objects = UserManager()
    class Meta:
        abstract = True
class User(AbstractUser):
    pass
""",
    "django.contrib.sessions.models": """
from django.db import models
class Session(models.Model):
    session_key = models.CharField()
    session_data = models.TextField()
    expire_date = models.DateTimeField()
""",
    "django.contrib.admin.models": """
from django.db import models
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
class LogEntry(models.Model):
    action_time = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL)
    content_type = models.ForeignKey(ContentType)
    object_id = models.TextField()
""",
}
DEFAULT_USER_MODEL = "django.contrib.auth.models.User"
