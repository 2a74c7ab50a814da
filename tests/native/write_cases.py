"""The write calls the differential tests run twice, through Django's stock a-methods and natively.

Each case is ``async def case(db) -> result`` using only the async API under
test, on the write zoo (``zoo/write_data.py``), which is reloaded before every
run. ``WRITE_CASES`` maps a case id to ``(method, case)``: *method* is the
native method the case must exercise.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db.models import F, Value
from django.db.models.functions import Concat

from .zoo.models import (
    Event,
    Guard,
    Hall,
    Item,
    Label,
    Lock,
    Note,
    Shop,
    Stage,
    Step,
    Supplier,
    Tally,
    Ticket,
    Token,
    Venue,
)

Case_ = Callable[[str], Awaitable[Any]]
WRITE_CASES: dict[str, tuple[str, Case_]] = {}


def case(method: str) -> Callable[[Case_], Case_]:
    def register(func: Case_) -> Case_:
        name = func.__name__.removeprefix("case_")
        assert name not in WRITE_CASES, name
        WRITE_CASES[name] = (method, func)
        return func

    return register


async def validate(obj: Any, method: str) -> None:
    """``obj.a<method>()`` with the shim; Django has no async validation, so stock is
    ``sync_to_async(obj.<method>)()``, as async code calls it today."""
    native = getattr(obj, f"a{method}", None)
    if native is not None:
        return await native()
    return await sync_to_async(getattr(obj, method))()


def bound(obj: Any, db: str) -> Any:
    """An unsaved instance whose validation queries go to ``db`` (the router's instance hint)."""
    obj._state.db = db
    return obj


async def shop(db: str, name: str = "Lyon") -> Shop:
    return await Shop.objects.using(db).aget(name=name)


# --- Model.asave --------------------------------------------------------------------------


@case("Model.asave")
async def case_save_insert_auto_pk(db: str) -> Any:
    obj = Shop(name="Brest", city="Brest")
    await obj.asave(using=db)
    return obj  # pk from the sequence, code from db_default


@case("Model.asave")
async def case_save_insert_explicit_pk(db: str) -> Any:
    obj = Label(pk=50, name="teal")
    await obj.asave(using=db)
    return obj


@case("Model.asave")
async def case_save_update(db: str) -> Any:
    obj = await shop(db)
    obj.city = "Lyon 2"
    await obj.asave()
    return obj


@case("Model.asave")
async def case_save_update_fields(db: str) -> Any:
    obj = await Item.objects.using(db).aget(name="pear")
    obj.qty, obj.name = 42, "renamed but not saved"
    await obj.asave(update_fields=["qty"])
    return obj


@case("Model.asave")
async def case_save_deferred_fields(db: str) -> Any:
    obj = await Item.objects.using(db).only("qty").aget(name="plum")
    obj.qty = 9
    await obj.asave()
    return obj


@case("Model.asave")
async def case_save_force_insert_existing(db: str) -> Any:
    obj = await Label.objects.using(db).aget(name="red")
    obj.name = "crimson"
    await obj.asave(force_insert=True)


@case("Model.asave")
async def case_save_force_update_missing(db: str) -> Any:
    await Label(pk=999, name="ghost").asave(using=db, force_update=True)


@case("Model.asave")
async def case_save_update_fields_unsaved(db: str) -> Any:
    await Label(name="new").asave(using=db, update_fields=["name"])


@case("Model.asave")
async def case_save_bad_update_fields(db: str) -> Any:
    obj = await Label.objects.using(db).aget(name="red")
    await obj.asave(update_fields=["nope"])


@case("Model.asave")
async def case_save_unique_violation(db: str) -> Any:
    await Shop(name="Nice").asave(using=db)


@case("Model.asave")
async def case_save_check_violation(db: str) -> Any:
    lyon = await shop(db)
    await Item(shop=lyon, name="bad", qty=-1).asave(using=db)


@case("Model.asave")
async def case_save_unsaved_related(db: str) -> Any:
    await Item(shop=Shop(name="unsaved"), name="x").asave(using=db)


@case("Model.asave")
async def case_save_uuid_pk_default(db: str) -> Any:
    obj = Token(label="second")
    await obj.asave(using=db)
    return obj


@case("Model.asave")
async def case_save_mti_insert(db: str) -> Any:
    obj = Stage(name="Arena", seats=9000, height=12)
    await obj.asave(using=db)
    return obj


@case("Model.asave")
async def case_save_mti_update(db: str) -> Any:
    obj = await Stage.objects.using(db).aget(name="Main")
    obj.name, obj.seats, obj.height = "Main stage", 600, 4
    await obj.asave()
    return obj


@case("Model.asave")
async def case_save_mti_update_fields_parent_only(db: str) -> Any:
    obj = await Stage.objects.using(db).aget(name="Main")
    obj.name = "Renamed"
    await obj.asave(update_fields=["name"])
    return obj


@case("Model.asave")
async def case_save_order_with_respect_to(db: str) -> Any:
    obj = Step(shop=await shop(db), text="close")
    await obj.asave(using=db)
    return obj


@case("Model.asave")
async def case_save_select_on_save(db: str) -> Any:
    obj = await Tally.objects.using(db).aget(name="visits")
    obj.count = 8
    await obj.asave()
    return obj


@case("Model.asave")
async def case_save_fk_by_instance(db: str) -> Any:
    item = Item(shop=await shop(db, "Empty"), name="new", price=Decimal("3.10"))
    await item.asave(using=db)
    return item


# --- Model.adelete / arefresh_from_db -----------------------------------------------------


@case("Model.adelete")
async def case_delete_cascade_set_null_generic(db: str) -> Any:
    obj = await shop(db)
    result = await obj.adelete()
    return result, obj.pk


@case("Model.adelete")
async def case_delete_single_fast(db: str) -> Any:
    obj = await Token.objects.using(db).aget(label="first")
    return await obj.adelete(), obj.pk


@case("Model.adelete")
async def case_delete_protected(db: str) -> Any:
    await (await shop(db, "Nice")).adelete()


@case("Model.adelete")
async def case_delete_restricted(db: str) -> Any:
    await (await Item.objects.using(db).aget(name="fig")).adelete()


@case("Model.adelete")
async def case_delete_mti(db: str) -> Any:
    return await (await Stage.objects.using(db).aget(name="Main")).adelete()


@case("Model.adelete")
async def case_delete_keep_parents(db: str) -> Any:
    return await (await Stage.objects.using(db).aget(name="Main")).adelete(keep_parents=True)


@case("Model.adelete")
async def case_delete_unsaved(db: str) -> Any:
    await Label(name="x").adelete(using=db)


@case("Model.arefresh_from_db")
async def case_refresh_all(db: str) -> Any:
    obj = await Item.objects.using(db).aget(name="apple")
    await Item.objects.using(db).filter(pk=obj.pk).aupdate(qty=77, name="apple!")
    await obj.arefresh_from_db()
    return obj


@case("Model.arefresh_from_db")
async def case_refresh_fields(db: str) -> Any:
    obj = await Item.objects.using(db).select_related("shop").aget(name="apple")
    await Item.objects.using(db).filter(pk=obj.pk).aupdate(qty=5, name="changed")
    await obj.arefresh_from_db(fields=["qty", "shop"])
    return obj


@case("Model.arefresh_from_db")
async def case_refresh_deleted(db: str) -> Any:
    obj = await Label.objects.using(db).aget(name="gold")
    await Label.objects.using(db).filter(pk=obj.pk).adelete()
    await obj.arefresh_from_db()


# --- QuerySet.acreate / aupdate / adelete ---------------------------------------------------


@case("acreate")
async def case_create(db: str) -> Any:
    return await Item.objects.using(db).acreate(shop=await shop(db), name="kiwi", qty=2)


@case("acreate")
async def case_create_integrity_error(db: str) -> Any:
    return await Item.objects.using(db).acreate(shop=await shop(db), name="apple")


@case("acreate")
async def case_create_mti(db: str) -> Any:
    return await Hall.objects.using(db).acreate(name="Annex", seats=40)


@case("acreate")
async def case_create_unknown_field(db: str) -> Any:
    return await Label.objects.using(db).acreate(nope=1)


@case("aupdate")
async def case_update_expression(db: str) -> Any:
    count = await Item.objects.using(db).filter(shop__name="Lyon").aupdate(qty=F("qty") + 10)
    return count


@case("aupdate")
async def case_update_concat(db: str) -> Any:
    return await Label.objects.using(db).aupdate(name=Concat("name", Value("-x")))


@case("aupdate")
async def case_update_mti_parent_fields(db: str) -> Any:
    return await Stage.objects.using(db).aupdate(name="All", seats=1, height=2)


@case("aupdate")
async def case_update_empty(db: str) -> Any:
    return await Item.objects.using(db).none().aupdate(qty=1)


@case("aupdate")
async def case_update_no_rows(db: str) -> Any:
    return await Item.objects.using(db).filter(name="nothing").aupdate(qty=1)


@case("aupdate")
async def case_update_sliced(db: str) -> Any:
    return await Item.objects.using(db).all()[:1].aupdate(qty=1)


@case("aupdate")
async def case_update_check_violation(db: str) -> Any:
    # One row, so that the error names the same row whatever the table's physical order.
    return await Item.objects.using(db).filter(name="pear").aupdate(qty=-5)


@case("adelete")
async def case_queryset_delete_cascade(db: str) -> Any:
    return await Shop.objects.using(db).filter(name__in=["Lyon", "Empty"]).adelete()


@case("adelete")
async def case_queryset_delete_fast(db: str) -> Any:
    return await Ticket.objects.using(db).filter(shop__isnull=True).adelete()


@case("adelete")
async def case_queryset_delete_protected(db: str) -> Any:
    return await Shop.objects.using(db).adelete()


@case("adelete")
async def case_queryset_delete_m2m_targets(db: str) -> Any:
    return await Label.objects.using(db).filter(rank__lte=1).adelete()


@case("adelete")
async def case_queryset_delete_values(db: str) -> Any:
    return await Shop.objects.using(db).values("name").adelete()


# --- bulk -----------------------------------------------------------------------------------


@case("abulk_create")
async def case_bulk_create(db: str) -> Any:
    return await Label.objects.using(db).abulk_create(
        [Label(name="aqua"), Label(pk=77, name="navy", rank=3), Label(name="rose")]
    )


@case("abulk_create")
async def case_bulk_create_batches(db: str) -> Any:
    lyon = await shop(db)
    objs = [Item(shop=lyon, name=f"bulk{i}", qty=i) for i in range(7)]
    return await Item.objects.using(db).abulk_create(objs, batch_size=3)


@case("abulk_create")
async def case_bulk_create_ignore_conflicts(db: str) -> Any:
    return await Label.objects.using(db).abulk_create(
        [Label(name="red"), Label(name="white")], ignore_conflicts=True
    )


@case("abulk_create")
async def case_bulk_create_update_conflicts(db: str) -> Any:
    return await Label.objects.using(db).abulk_create(
        [Label(name="red", rank=9), Label(name="black", rank=8)],
        update_conflicts=True,
        update_fields=["rank"],
        unique_fields=["name"],
    )


@case("abulk_create")
async def case_bulk_create_conflict_error(db: str) -> Any:
    return await Label.objects.using(db).abulk_create([Label(name="new"), Label(name="red")])


@case("abulk_create")
async def case_bulk_create_mti(db: str) -> Any:
    return await Hall.objects.using(db).abulk_create([Hall(name="h")])


@case("abulk_create")
async def case_bulk_create_uuid_pk(db: str) -> Any:
    return await Token.objects.using(db).abulk_create([Token(label="a"), Token(label="b")])


@case("abulk_update")
async def case_bulk_update(db: str) -> Any:
    items = [item async for item in Item.objects.using(db).order_by("pk")]
    for item in items:
        item.qty += 100
        item.price = item.price * 2
    return await Item.objects.using(db).abulk_update(items, ["qty", "price"], batch_size=2), items


@case("abulk_update")
async def case_bulk_update_no_fields(db: str) -> Any:
    return await Item.objects.using(db).abulk_update([], [])


@case("abulk_update")
async def case_bulk_update_mti_parent_field(db: str) -> Any:
    halls = [hall async for hall in Hall.objects.using(db).order_by("pk")]
    for hall in halls:
        hall.name += "!"
        hall.seats += 1
    return await Hall.objects.using(db).abulk_update(halls, ["name", "seats"])


# --- get_or_create / update_or_create -------------------------------------------------------


@case("aget_or_create")
async def case_get_or_create_existing(db: str) -> Any:
    return await Label.objects.using(db).aget_or_create(name="red", defaults={"rank": 5})


@case("aget_or_create")
async def case_get_or_create_new(db: str) -> Any:
    return await Label.objects.using(db).aget_or_create(name="cyan", defaults={"rank": lambda: 6})


@case("aget_or_create")
async def case_get_or_create_integrity_error(db: str) -> Any:
    lyon = await shop(db)
    # Not found by qty, then the insert hits the (shop, name) unique constraint.
    return await Item.objects.using(db).aget_or_create(shop=lyon, name="apple", qty=999)


@case("aget_or_create")
async def case_get_or_create_multiple(db: str) -> Any:
    return await Item.objects.using(db).aget_or_create(qty__gte=0)


@case("aget_or_create")
async def case_get_or_create_bad_field(db: str) -> Any:
    return await Label.objects.using(db).aget_or_create(name="x", defaults={"nope": 1})


@case("aupdate_or_create")
async def case_update_or_create_existing(db: str) -> Any:
    return await Label.objects.using(db).aupdate_or_create(name="green", defaults={"rank": 11})


@case("aupdate_or_create")
async def case_update_or_create_new(db: str) -> Any:
    return await Label.objects.using(db).aupdate_or_create(
        name="ivory", defaults={"rank": 1}, create_defaults={"rank": 2}
    )


@case("aupdate_or_create")
async def case_update_or_create_mti(db: str) -> Any:
    return await Stage.objects.using(db).aupdate_or_create(name="Main", defaults={"height": 9})


# --- validation -----------------------------------------------------------------------------


@case("Model.aclean_fields")
async def case_clean_fields_fk_missing(db: str) -> Any:
    await validate(bound(Item(shop_id=999, name="x"), db), "clean_fields")


@case("Model.aclean_fields")
async def case_clean_fields_ok(db: str) -> Any:
    item = bound(Item(shop=await shop(db), name="ok", qty="7"), db)
    await validate(item, "clean_fields")
    return item


@case("Model.avalidate_unique")
async def case_validate_unique(db: str) -> Any:
    await validate(bound(Shop(name="Lyon"), db), "validate_unique")


@case("Model.avalidate_unique")
async def case_validate_unique_for_date(db: str) -> Any:
    await validate(bound(Event(day=datetime.date(2024, 5, 1), slug="fair"), db), "validate_unique")


@case("Model.avalidate_constraints")
async def case_validate_constraints(db: str) -> Any:
    lyon = await shop(db)
    await validate(bound(Item(shop=lyon, name="apple", qty=-3), db), "validate_constraints")


@case("Model.aclean_fields")
async def case_full_clean(db: str) -> Any:
    lyon = await shop(db)
    await validate(bound(Item(shop=lyon, name="apple", qty=-3), db), "full_clean")


@case("Model.avalidate_unique")
async def case_full_clean_valid(db: str) -> Any:
    item = bound(Item(shop=await shop(db), name="fresh", qty=1), db)
    await validate(item, "full_clean")
    return item


# --- related managers: reverse foreign key ------------------------------------------------


@case("RelatedManager.aadd")
async def case_fk_add_bulk(db: str) -> Any:
    empty = await shop(db, "Empty")
    orphan = await Ticket.objects.using(db).aget(title="orphan")
    t3 = await Ticket.objects.using(db).aget(title="t3")
    await empty.tickets.aadd(orphan, t3)
    return orphan, t3


@case("RelatedManager.aadd")
async def case_fk_add_unsaved_bulk(db: str) -> Any:
    await (await shop(db, "Empty")).tickets.aadd(Ticket(title="new"))


@case("RelatedManager.aadd")
async def case_fk_add_not_bulk(db: str) -> Any:
    empty = await shop(db, "Empty")
    new = Ticket(title="new")
    await empty.tickets.aadd(new, bulk=False)
    return new


@case("RelatedManager.aadd")
async def case_fk_add_wrong_type(db: str) -> Any:
    await (await shop(db, "Empty")).tickets.aadd(await shop(db))


@case("RelatedManager.acreate")
async def case_fk_create(db: str) -> Any:
    return await (await shop(db, "Nice")).items.acreate(name="olive", qty=4)


@case("RelatedManager.acreate")
async def case_fk_create_unsaved_instance(db: str) -> Any:
    return await Shop(name="unsaved").items.acreate(name="x")


@case("RelatedManager.aget_or_create")
async def case_fk_get_or_create(db: str) -> Any:
    nice = await shop(db, "Nice")
    found = await nice.items.aget_or_create(name="fig", defaults={"qty": 50})
    made = await nice.items.aget_or_create(name="date", defaults={"qty": 50})
    return found, made


@case("RelatedManager.aupdate_or_create")
async def case_fk_update_or_create(db: str) -> Any:
    nice = await shop(db, "Nice")
    updated = await nice.items.aupdate_or_create(name="fig", defaults={"qty": 51})
    made = await nice.items.aupdate_or_create(
        name="date", defaults={"qty": 1}, create_defaults={"qty": 2}
    )
    return updated, made


@case("RelatedManager.aremove")
async def case_fk_remove(db: str) -> Any:
    lyon = await shop(db)
    t1 = await Ticket.objects.using(db).aget(title="t1")
    await lyon.tickets.aremove(t1)
    return t1


@case("RelatedManager.aremove")
async def case_fk_remove_not_related(db: str) -> Any:
    lyon = await shop(db)
    await lyon.tickets.aremove(await Ticket.objects.using(db).aget(title="t3"))


@case("RelatedManager.aremove")
async def case_fk_remove_not_bulk(db: str) -> Any:
    lyon = await shop(db)
    t2 = await Ticket.objects.using(db).aget(title="t2")
    await lyon.tickets.aremove(t2, bulk=False)
    return t2


@case("RelatedManager.aclear")
async def case_fk_clear(db: str) -> Any:
    await (await shop(db)).tickets.aclear()


@case("RelatedManager.aclear")
async def case_fk_clear_not_bulk(db: str) -> Any:
    await (await shop(db)).tickets.aclear(bulk=False)


@case("RelatedManager.aset")
async def case_fk_set(db: str) -> Any:
    lyon = await shop(db)
    keep = await Ticket.objects.using(db).aget(title="t1")
    orphan = await Ticket.objects.using(db).aget(title="orphan")
    await lyon.tickets.aset([keep, orphan])


@case("RelatedManager.aset")
async def case_fk_set_clear_queryset(db: str) -> Any:
    lyon = await shop(db)
    await lyon.tickets.aset(Ticket.objects.using(db).filter(title__in=["t3", "orphan"]), clear=True)


@case("RelatedManager.aset")
async def case_fk_set_not_null(db: str) -> Any:
    empty = await shop(db, "Empty")
    apple = await Item.objects.using(db).aget(name="apple")
    await empty.items.aset([apple])
    return apple


# --- related managers: many-to-many ---------------------------------------------------------


async def label(db: str, name: str) -> Label:
    return await Label.objects.using(db).aget(name=name)


@case("ManyRelatedManager.aadd")
async def case_m2m_add(db: str) -> Any:
    apple = await Item.objects.using(db).aget(name="apple")
    await apple.labels.aadd(await label(db, "gold"), await label(db, "red"))  # red already there
    return [x.name async for x in apple.labels.order_by("name")]


@case("ManyRelatedManager.aadd")
async def case_m2m_add_reverse_ids(db: str) -> Any:
    blue = await label(db, "blue")
    pear = await Item.objects.using(db).aget(name="pear")
    await blue.items.aadd(pear.pk)


@case("ManyRelatedManager.aadd")
async def case_m2m_add_through_defaults(db: str) -> Any:
    empty = await shop(db, "Empty")
    acme = await Supplier.objects.using(db).aget(name="Acme")
    await empty.suppliers.aadd(acme, through_defaults={"terms": "cash"})


@case("ManyRelatedManager.aadd")
async def case_m2m_add_wrong_type(db: str) -> Any:
    apple = await Item.objects.using(db).aget(name="apple")
    await apple.labels.aadd(await shop(db))


@case("ManyRelatedManager.aremove")
async def case_m2m_remove(db: str) -> Any:
    apple = await Item.objects.using(db).aget(name="apple")
    await apple.labels.aremove(await label(db, "red"), (await label(db, "gold")).pk)


@case("ManyRelatedManager.aremove")
async def case_m2m_remove_through(db: str) -> Any:
    lyon = await shop(db)
    await lyon.suppliers.aremove(await Supplier.objects.using(db).aget(name="Bolt"))


@case("ManyRelatedManager.aclear")
async def case_m2m_clear(db: str) -> Any:
    await (await label(db, "green")).items.aclear()


@case("ManyRelatedManager.aset")
async def case_m2m_set(db: str) -> Any:
    apple = await Item.objects.using(db).aget(name="apple")
    await apple.labels.aset([await label(db, "green"), await label(db, "blue")])


@case("ManyRelatedManager.aset")
async def case_m2m_set_clear_through_defaults(db: str) -> Any:
    nice = await shop(db, "Nice")
    await nice.suppliers.aset(
        Supplier.objects.using(db).filter(name__in=["Acme", "Core"]),
        clear=True,
        through_defaults={"terms": "net60"},
    )


@case("ManyRelatedManager.acreate")
async def case_m2m_create(db: str) -> Any:
    plum = await Item.objects.using(db).aget(name="plum")
    return await plum.labels.acreate(name="violet", rank=4)


@case("ManyRelatedManager.acreate")
async def case_m2m_create_through_defaults(db: str) -> Any:
    lyon = await shop(db)
    return await lyon.suppliers.acreate(name="Dyna", through_defaults={"terms": "cod"})


@case("ManyRelatedManager.aget_or_create")
async def case_m2m_get_or_create(db: str) -> Any:
    apple = await Item.objects.using(db).aget(name="apple")
    related_found = await apple.labels.aget_or_create(name="red")
    # "gold" exists but is not related: the related queryset does not find it, the insert fails.
    unrelated = await apple.labels.aget_or_create(name="gold")
    return related_found, unrelated


@case("ManyRelatedManager.aupdate_or_create")
async def case_m2m_update_or_create(db: str) -> Any:
    apple = await Item.objects.using(db).aget(name="apple")
    updated = await apple.labels.aupdate_or_create(name="red", defaults={"rank": 40})
    made = await apple.labels.aupdate_or_create(name="mauve", defaults={"rank": 41})
    return updated, made


# --- related managers: generic relations ----------------------------------------------------


@case("GenericRelatedObjectManager.aadd")
async def case_generic_add(db: str) -> Any:
    empty = await shop(db, "Empty")
    n3 = await Note.objects.using(db).aget(text="n3")
    await empty.notes.aadd(n3)
    new = Note(text="n4")
    await empty.notes.aadd(new, bulk=False)
    return n3, new


@case("GenericRelatedObjectManager.aremove")
async def case_generic_remove(db: str) -> Any:
    lyon = await shop(db)
    await lyon.notes.aremove(await Note.objects.using(db).aget(text="n1"))
    await lyon.notes.aremove(await Note.objects.using(db).aget(text="n2"), bulk=False)


@case("GenericRelatedObjectManager.aclear")
async def case_generic_clear(db: str) -> Any:
    await (await shop(db)).notes.aclear()


@case("GenericRelatedObjectManager.aset")
async def case_generic_set(db: str) -> Any:
    lyon = await shop(db)
    n1 = await Note.objects.using(db).aget(text="n1")
    n3 = await Note.objects.using(db).aget(text="n3")
    await lyon.notes.aset([n1, n3])


@case("GenericRelatedObjectManager.acreate")
async def case_generic_create(db: str) -> Any:
    return await (await shop(db, "Empty")).notes.acreate(text="hello")


@case("GenericRelatedObjectManager.aget_or_create")
async def case_generic_get_or_create(db: str) -> Any:
    lyon = await shop(db)
    return await lyon.notes.aget_or_create(text="n1"), await lyon.notes.aget_or_create(text="n9")


@case("GenericRelatedObjectManager.aupdate_or_create")
async def case_generic_update_or_create(db: str) -> Any:
    lyon = await shop(db)
    return await lyon.notes.aupdate_or_create(text="n1", defaults={"text": "n1+"})


@case("Model.adelete")
async def case_delete_protect_cleared_first(db: str) -> Any:
    nice = await shop(db, "Nice")
    await Guard.objects.using(db).filter(shop=nice).aupdate(shop=None)
    await Lock.objects.using(db).adelete()
    return await nice.adelete()


@case("aupdate")
async def case_update_through_join(db: str) -> Any:
    return await Venue.objects.using(db).filter(hall__seats__gt=100).aupdate(name="big")
