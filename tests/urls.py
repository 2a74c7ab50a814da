"""URLconf for in-process tests; areas include their own patterns here."""

from django.urls import include, path

urlpatterns: list = [
    path("guard/", include("guard_app.urls")),  # runtime guard fixture views
]
