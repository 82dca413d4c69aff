"""Ledger import, the audit log: every history row the import writes (new and changed
households and persons) has its audit event, the same event that the generic reader of bulk
history (``record_bulk_history``) makes of it, and writing them costs the same few queries
for 5 rows or 150."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from network.audit_history import mask_phone, record_bulk_history
from network.models import AuditEvent, AuditKind
from residents.ledger_import import import_ledger
from residents.models import Household, Person
from tests.residents.conftest import register  # noqa: F401 (fixture)
from tests.residents.test_import_ledger import ledger_xlsx, messy_rows, person_row

FIELDS = (
    "kind",
    "user_id",
    "username",
    "ip_address",
    "object_type",
    "object_id",
    "object_label",
    "area_id",
    "changes",
    "note",
)


def _events(ids) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(pk__in=ids).order_by("pk").values_list(*FIELDS, named=True)
    )


def _rows(register):  # noqa: F811
    return [
        *messy_rows(),  # new households and persons
        person_row(  # an existing household's phone and a member's workplace change
            户号="PJL-001",
            地址="",
            联系电话="0512-67581234",
            姓名="马晓东",
            身份证号=register.ma_xiaodong.id_number,
            工作单位="平江路菜场",
        ),
    ]


def test_every_history_row_of_an_import_has_the_event_the_generic_reader_makes(
    world,
    register,  # noqa: F811
):
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    plan = import_ledger(ledger_xlsx(_rows(register)), "a.xlsx", by=world.pingjiang_staff)
    assert plan.new_households and plan.new_persons
    assert plan.changed_households and plan.changed_persons
    ours = set(AuditEvent.objects.values_list("pk", flat=True)) - before

    records = [
        record
        for model in (Household, Person)
        for record in model.history.filter(history_change_reason="ledger import a.xlsx")
    ]
    assert (
        len(ours)
        == len(records)
        == (
            len(plan.new_households)
            + len(plan.changed_households)
            + len(plan.new_persons)
            + len(plan.changed_persons)
        )
    )
    (at,) = {record.history_date for record in records}
    reference = set(AuditEvent.objects.values_list("pk", flat=True)) - before - ours
    assert not reference
    record_bulk_history([Household, Person], at=at, user=world.pingjiang_staff)
    reference = set(AuditEvent.objects.values_list("pk", flat=True)) - before - ours

    assert _events(ours) == _events(reference)  # same events, in the same order
    kinds = [event.kind for event in _events(ours)]
    assert kinds.count(AuditKind.CREATE) == len(plan.new_households) + len(plan.new_persons)
    assert kinds.count(AuditKind.CHANGE) == 2
    changed = {e.object_label: e.changes for e in _events(ours) if e.kind == AuditKind.CHANGE}
    assert changed["马晓东"] == {"workplace": ["", "平江路菜场"]}
    assert changed[register.ma_household.address]["phone"] == [
        mask_phone(register.ma_household.phone),
        mask_phone("0512-67581234"),
    ]
    created = next(e for e in _events(ours) if e.object_label == "马建华")
    assert created.user_id == world.pingjiang_staff.pk
    assert created.area_id == world.pingjianglu.pk
    assert created.changes["id_number"][1].startswith("320")  # masked like the register
    assert "*" in created.changes["id_number"][1]


def _queries_to_write(world, first: int, size: int) -> int:
    rows = [
        person_row(户号=f"PJL-{n:03d}", 地址=f"平江路{n}号", 姓名=f"马{n}", 性别="男")
        for n in range(first, first + size)
    ]
    with CaptureQueriesContext(connection) as queries:
        import_ledger(ledger_xlsx(rows), f"{size}.xlsx", by=world.pingjiang_staff)
    return len(queries)


def test_audit_events_of_an_import_cost_no_query_per_row(world):
    _queries_to_write(world, 400, 1)  # the user's permissions and scope, once per request
    assert _queries_to_write(world, 500, 5) == _queries_to_write(world, 600, 30)
    assert AuditEvent.objects.filter(note="ledger import 30.xlsx").count() == 60  # 30 + 30


def test_new_records_have_the_history_rows_simple_history_writes(world):
    """The creation history rows (written with one COPY on PostgreSQL) copy every tracked
    value of the new records, by the importing user, with the import as reason."""
    plan = import_ledger(ledger_xlsx(messy_rows()), "a.xlsx", by=world.pingjiang_staff)
    for model, objs in ((Household, plan.new_households), (Person, plan.new_persons)):
        history_model = model.history.model
        records = {r.id: r for r in history_model.objects.filter(id__in=[o.pk for o in objs])}
        assert len(records) == len(objs)
        for stored in model.objects.filter(pk__in=records):
            record = records[stored.pk]
            assert (record.history_type, record.history_user_id) == ("+", world.pingjiang_staff.pk)
            assert record.history_change_reason == "ledger import a.xlsx"
            for field in history_model.tracked_fields:
                assert getattr(record, field.attname) == getattr(stored, field.attname), field
        assert len({r.history_date for r in records.values()}) == 1
