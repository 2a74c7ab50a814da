"""URLconf for in-process tests; areas include their own patterns here."""

urlpatterns: list = []
