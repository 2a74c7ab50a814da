"""The write zoo's starting rows, reloaded before every run of a write case.

``reset(alias)`` empties the write zoo's tables and restarts their sequences
with Django's own sequence-reset SQL, so that a stock run and a native run of the same case
start from identical rows and hand out identical primary keys.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connections, transaction

from . import models as zoo

WRITE_MODELS = [
    zoo.Shop,
    zoo.Label,
    zoo.Item,
    zoo.Item.labels.through,
    zoo.Supplier,
    zoo.Supply,
    zoo.Ticket,
    zoo.Guard,
    zoo.Lock,
    zoo.Note,
    zoo.Token,
    zoo.Venue,
    zoo.Hall,
    zoo.Stage,
    zoo.Step,
    zoo.Tally,
    zoo.Event,
]


_sequences: dict[str, list[dict[str, str]]] = {}


def flush(alias: str) -> None:
    """Empty the write zoo's tables and restart their sequences (inside the caller's block)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        if alias not in _sequences:
            _sequences[alias] = [
                sequence
                for model in WRITE_MODELS
                for sequence in connection.introspection.get_sequences(
                    cursor, model._meta.db_table, model._meta.local_fields
                )
            ]
        for model in WRITE_MODELS:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        for sql in connection.ops.sequence_reset_by_name_sql(no_style(), _sequences[alias]):
            cursor.execute(sql)


def reset(alias: str) -> None:
    """Flush, then load the starting rows, in one committed transaction."""
    assert apps.ready
    zoo.reset_tokens()
    with transaction.atomic(using=alias):
        flush(alias)
        _load(alias)


def _load(db: str) -> None:
    lyon = zoo.Shop.objects.using(db).create(name="Lyon", city="Lyon")
    nice = zoo.Shop.objects.using(db).create(name="Nice", city="Nice", code="N-1")
    zoo.Shop.objects.using(db).create(name="Empty", city="Pau")
    labels = [
        zoo.Label.objects.using(db).create(name=name, rank=rank)
        for rank, name in enumerate(["red", "green", "blue", "gold"])
    ]
    items = []
    for shop, specs in ((lyon, ["apple", "pear", "plum"]), (nice, ["fig", "lemon"])):
        for i, name in enumerate(specs):
            item = zoo.Item.objects.using(db).create(
                shop=shop, name=name, qty=i * 3, price=Decimal("2.50") * (i + 1)
            )
            items.append(item)
    items[0].labels.add(labels[0], labels[1])
    items[1].labels.add(labels[1])
    items[3].labels.add(labels[2], labels[3])
    suppliers = [zoo.Supplier.objects.using(db).create(name=n) for n in ("Acme", "Bolt", "Core")]
    zoo.Supply.objects.using(db).create(shop=lyon, supplier=suppliers[0], terms="net10")
    zoo.Supply.objects.using(db).create(shop=lyon, supplier=suppliers[1])
    zoo.Supply.objects.using(db).create(shop=nice, supplier=suppliers[1])
    for shop, titles in ((lyon, ["t1", "t2"]), (nice, ["t3"])):
        for title in titles:
            zoo.Ticket.objects.using(db).create(shop=shop, title=title)
    zoo.Ticket.objects.using(db).create(shop=None, title="orphan")
    zoo.Guard.objects.using(db).create(shop=nice, name="watch")
    zoo.Lock.objects.using(db).create(item=items[3], name="padlock")
    shop_type = ContentType.objects.db_manager(db).get_for_model(zoo.Shop)
    for shop, text in ((lyon, "n1"), (lyon, "n2"), (nice, "n3")):
        zoo.Note.objects.using(db).create(content_type=shop_type, object_id=shop.pk, text=text)
    zoo.Token.objects.using(db).create(label="first")
    zoo.Stage.objects.using(db).create(name="Main", seats=500, height=3)
    zoo.Hall.objects.using(db).create(name="Side", seats=80)
    zoo.Venue.objects.using(db).create(name="Yard")
    for text in ("open", "sweep"):
        zoo.Step.objects.using(db).create(shop=lyon, text=text)
    zoo.Tally.objects.using(db).create(name="visits", count=7)
    zoo.Event.objects.using(db).create(day=datetime.date(2024, 5, 1), slug="fair", shop=lyon)
