from django.db import models


class Article(models.Model):
    """A typical small row: the benchmark's unit of work."""

    title = models.CharField(max_length=100)
    score = models.IntegerField()
    price = models.DecimalField(max_digits=8, decimal_places=2)
    published = models.DateTimeField()
