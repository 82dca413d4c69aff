"""Anonymising persons who left long ago (issue 7 §3, minimum retention): who qualifies,
what is removed — on the record, in its history and in the audit log —, what is kept so
figures and submitted reports stay the same, and who may do it.

The register of 平江路社区 (平江街道) and 道前社区 (沧浪街道), dates counted back from today:
  马 household 平江路112号3幢201室, active
    马晓东 Hui, moved away 4 years ago (qualifies), ID number, mobile, workplace, notes
    马小燕 Hui, active (never)
  白 household 平江路56号2幢102室, active
    白志强 Manchu, moved away 2 years ago (not yet)
    白玉兰 Manchu, moved away, no date (never: nobody knows when)
  哈 household 平江路200号1幢301室, moved away 5 years ago (qualifies, with its members)
    哈桂英 Hui, deceased 5 years ago · 哈志强 Hui, still "active" in the moved household
  阿 household 道前街45号 (沧浪街道)
    阿依古丽 Uyghur, moved away 6 years ago (qualifies)
"""

import datetime
import json
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from network import audit
from network.models import AuditEvent, AuditKind
from reports import catalogue, workflow
from reports.models import ReportDefinition
from reports.narrative import DEFAULT_TEMPLATE
from reports.periods import parse_period
from residents import anonymise
from residents.models import Household, HouseholdStatus, Person, PersonStatus
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity, valid_id_number

URL = reverse("residents:anonymise")
TODAY = timezone.localdate()
MA_ID = valid_id_number("320508", "19840714", "135")


def years_ago(years: int, days: int = 0) -> datetime.date:
    return anonymise.default_cutoff(TODAY, years) - datetime.timedelta(days=days)


@pytest.fixture
def register(world):
    ma = HouseholdFactory(
        community=world.pingjianglu,
        address="平江路112号3幢201室",
        phone="0512-65238888",
        ledger_number="PJL-0112",
        notes="户主马晓东在观前街开拉面馆",
    )
    bai = HouseholdFactory(community=world.pingjianglu, address="平江路56号2幢102室")
    ha = HouseholdFactory(
        community=world.pingjianglu,
        address="平江路200号1幢301室",
        phone="0512-65230001",
        status=HouseholdStatus.MOVED_AWAY,
        moved_out_on=years_ago(5),
    )
    ayi = HouseholdFactory(community=world.daoqian, address="道前街45号")
    people = {
        "ma_xiaodong": PersonFactory(
            household=ma,
            name="马晓东",
            id_number=MA_ID,
            birth_date=datetime.date(1984, 7, 14),
            mobile="13912345678",
            workplace="马记清真拉面馆",
            notes="常去太平坊清真寺",
            residence_permit_number="JS3205081234",
            is_volunteer=True,
            status=PersonStatus.MOVED_AWAY,
            status_changed_on=years_ago(4),
        ),
        "ma_xiaoyan": PersonFactory(household=ma, name="马小燕", sex="F"),
        "bai_zhiqiang": PersonFactory(
            household=bai,
            name="白志强",
            ethnicity=_ethnicity("11"),
            status=PersonStatus.MOVED_AWAY,
            status_changed_on=years_ago(2),
        ),
        "bai_yulan": PersonFactory(
            household=bai,
            name="白玉兰",
            sex="F",
            ethnicity=_ethnicity("11"),
            status=PersonStatus.MOVED_AWAY,
        ),
        "ha_guiying": PersonFactory(
            household=ha,
            name="哈桂英",
            sex="F",
            birth_date=datetime.date(1941, 2, 3),
            status=PersonStatus.DECEASED,
            status_changed_on=years_ago(5),
        ),
        "ha_zhiqiang": PersonFactory(household=ha, name="哈志强", mobile="13800001111"),
        "ayiguli": PersonFactory(
            household=ayi,
            name="阿依古丽",
            sex="F",
            ethnicity=_ethnicity("05"),
            status=PersonStatus.MOVED_AWAY,
            status_changed_on=years_ago(6),
        ),
    }
    return {"ma": ma, "bai": bai, "ha": ha, "ayi": ayi, **people}


def names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# ---------------------------------------------------------------- who qualifies


def test_who_qualifies_by_status_date_and_household(world, register):
    cutoff = anonymise.default_cutoff()
    assert names(anonymise.persons_due(world.bureau, cutoff)) == {
        "马晓东",  # moved away 4 years ago
        "哈桂英",  # died 5 years ago
        "哈志强",  # active, but the household moved away 5 years ago
        "阿依古丽",  # 沧浪街道: the bureau sees the whole district
    }
    assert list(anonymise.households_due(world.bureau, cutoff)) == [register["ha"]]
    found = anonymise.preview(world.bureau, cutoff)
    assert (found.persons, found.households, found.undated) == (4, 1, 1)
    assert [(r.community.name, r.persons, r.households) for r in found.by_community] == [
        ("平江路社区", 3, 1),
        ("道前社区", 1, 0),
    ]


def test_the_cut_off_is_the_setting_in_years_and_a_day_counts(world, register, settings):
    assert anonymise.default_cutoff(datetime.date(2026, 11, 24)) == datetime.date(2023, 11, 24)
    assert anonymise.default_cutoff(datetime.date(2028, 2, 29)) == datetime.date(2025, 2, 28)
    settings.ANONYMISE_AFTER_YEARS = 5
    cutoff = anonymise.default_cutoff()
    # moved away 4 years ago is kept; died 5 years ago (the day of the cut-off) is not before it
    assert names(anonymise.persons_due(world.bureau, cutoff)) == {"阿依古丽"}


# ---------------------------------------------------------------- what is removed


def test_names_id_numbers_phones_and_notes_are_removed_everywhere(world, register):
    ma = register["ma_xiaodong"]
    audit.record(
        AuditKind.CHANGE,
        obj=register["ma"],
        changes={"notes": ["", "户主马晓东在观前街开拉面馆"]},
    )
    # one more historical record with the old values, and an audit event with them
    ma.notes = "2021年迁往西安"
    ma.save()
    audit.record(
        AuditKind.CHANGE,
        user=world.pingjiang_staff,
        obj=ma,
        changes={"mobile": ["139****5678", "139****5679"], "name": ["马晓冬", "马晓东"]},
    )
    audit.record(AuditKind.REVEAL_ID, user=world.pingjiang_staff, obj=ma)
    household = register["ha"]

    done = anonymise.persons_anonymise(user=world.bureau, cutoff=anonymise.default_cutoff())

    assert (done.persons, done.households) == (4, 1)
    ma = fresh(ma)
    assert ma.name == f"已匿名-{ma.pk:X}"
    assert (ma.id_number, ma.id_number_reversed, ma.mobile, ma.workplace, ma.notes) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert ma.residence_permit_number == ""
    assert "xiaodong" not in ma.name_pinyin and ma.name_initials != "mxd"
    # kept, so the counts stay
    assert (ma.sex, ma.ethnicity.code, ma.status, ma.is_volunteer) == (
        "M",
        "03",
        PersonStatus.MOVED_AWAY,
        True,
    )
    assert ma.birth_date == datetime.date(1984, 7, 1)
    assert ma.status_changed_on == years_ago(4)
    assert ma.anonymised_at is not None
    assert ma.version == register["ma_xiaodong"].version + 1

    gone = fresh(household)
    assert gone.address == f"（已匿名-{gone.pk:X}）平江路社区"
    assert (gone.phone, gone.notes, gone.ledger_number) == ("", "", "")
    assert gone.moved_out_on == years_ago(5) and gone.anonymised_at is not None

    # the history keeps no old value (three records of 马晓东: created, edited, anonymised)
    history = list(Person.history.filter(id=ma.pk))
    assert len(history) == 3
    for row in history:
        assert (row.name, row.id_number, row.mobile, row.workplace, row.notes) == (
            ma.name,
            "",
            "",
            "",
            "",
        )
        assert row.birth_date == datetime.date(1984, 7, 1)
    assert not Person.history.filter(name__in=["马晓东", "哈桂英", "哈志强", "阿依古丽"]).exists()
    assert not Person.history.filter(id_number=MA_ID).exists()
    assert not Household.history.filter(notes__contains="马晓东").exists()
    assert fresh(register["ma"]).notes == f"户主{ma.name}在观前街开拉面馆"
    assert not Household.history.filter(address="平江路200号1幢301室").exists()
    assert not Household.history.filter(phone="0512-65230001").exists()

    # nor does the audit log, apart from the one event that says who anonymised
    about_them = AuditEvent.objects.filter(
        object_type="residents.person", object_id=str(ma.pk)
    ) | AuditEvent.objects.filter(object_type="residents.household", object_id=str(gone.pk))
    assert about_them.count() >= 2
    dumped = json.dumps([[e.object_label, e.changes] for e in about_them], ensure_ascii=False)
    for secret in ("马晓东", "马晓冬", "平江路200号", "5678", "5679", "0001", MA_ID[-4:]):
        assert secret not in dumped
    staying = AuditEvent.objects.filter(
        object_type="residents.household", object_id=str(register["ma"].pk)
    )
    assert "马晓东" not in json.dumps([e.changes for e in staying], ensure_ascii=False)
    event = AuditEvent.objects.get(kind=AuditKind.ANONYMISE)
    assert event.user == world.bureau
    assert event.changes == {
        "cutoff": anonymise.default_cutoff().isoformat(),
        "after_years": 3,
        "persons": 4,
        "households": 1,
    }
    # those who do not qualify are untouched
    assert fresh(register["bai_zhiqiang"]).name == "白志强"
    assert fresh(register["ma_xiaoyan"]).name == "马小燕"
    assert fresh(register["ma"]).address == "平江路112号3幢201室"


def test_a_second_run_finds_nothing_new(world, register):
    cutoff = anonymise.default_cutoff()
    first = anonymise.persons_anonymise(user=world.bureau, cutoff=cutoff)
    names_after_first = names(Person.objects.all())
    history_rows = Person.history.count()
    second = anonymise.persons_anonymise(user=world.bureau, cutoff=cutoff)
    assert (first.persons, first.households) == (4, 1)
    assert (second.persons, second.households) == (0, 0)
    assert names(Person.objects.all()) == names_after_first
    assert Person.history.count() == history_rows
    assert list(
        AuditEvent.objects.filter(kind=AuditKind.ANONYMISE)
        .order_by("pk")
        .values_list("changes__persons", flat=True)
    ) == [4, 0]


def test_a_cut_off_later_than_the_setting_is_refused(world, register):
    too_late = anonymise.default_cutoff() + datetime.timedelta(days=1)
    with pytest.raises(anonymise.AnonymiseError):
        anonymise.persons_anonymise(user=world.bureau, cutoff=too_late)
    assert fresh(register["ma_xiaodong"]).name == "马晓东"


# ---------------------------------------------------------------- counts stay


def test_submitted_reports_and_past_figures_are_unchanged(world, register):
    year = str(TODAY.year - 6)  # 马晓东, 哈桂英 and the 哈 household were on that register
    keys = [
        "minority_persons",
        "minority_households",
        "ethnic_groups",
        "registered_minority_persons",
        "volunteers",
        "volunteer_share",
    ]
    definition = ReportDefinition.objects.create(
        title=f"{year}年度民族工作总结",
        area=world.district,
        period=year,
        figure_keys="\n".join(keys),
        narrative_template=DEFAULT_TEMPLATE,
        created_by=world.bureau,
    )
    report = workflow.generate(definition, world.pingjiang, world.pingjiang_staff)
    report = workflow.submit(report, world.pingjiang_staff, "平江街道年度总结请审核")
    frozen = workflow.snapshot_values(report)
    areas = [world.pingjiang, world.pingjianglu, world.district]
    period = parse_period(year)
    live_before = catalogue.compute(keys, areas, period)
    assert live_before.value("minority_persons", world.pingjianglu) == 5

    anonymise.persons_anonymise(user=world.bureau, cutoff=anonymise.default_cutoff())

    assert workflow.snapshot_values(report) == frozen
    live_after = catalogue.compute(keys, areas, period)
    for key in keys:
        for area in areas:
            assert live_after.value(key, area) == live_before.value(key, area), (key, area)


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize(
    "who", ["pingjiang_staff", "canglang_staff", "pingjianglu_staff", "pingjianglu_liaison"]
)
def test_only_district_bureau_staff_may_anonymise(world, register, login, who):
    user = getattr(world, who)
    client = login(user)
    assert client.get(URL).status_code == 403
    response = client.post(
        URL, {"cutoff": anonymise.default_cutoff().isoformat(), "confirmation": "确认匿名"}
    )
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        anonymise.persons_anonymise(user=user, cutoff=anonymise.default_cutoff())
    with pytest.raises(CommandError):
        call_command("anonymise_departed", "--user", user.username, stdout=StringIO())
    assert fresh(register["ma_xiaodong"]).name == "马晓东"
    assert not AuditEvent.objects.filter(kind=AuditKind.ANONYMISE).exists()
    # and the menu offers it to none of them
    assert URL not in client.get(reverse("home")).content.decode()


def test_the_page_counts_then_anonymises_after_the_typed_word(world, register, login):
    client = login(world.bureau)
    page = client.get(URL)
    text = page.content.decode()
    assert page.status_code == 200
    assert anonymise.default_cutoff().isoformat() in text
    assert "平江路社区" in text and "道前社区" in text
    assert "马晓东" not in text  # counts only, no names
    assert URL in client.get(reverse("home")).content.decode()  # in the bureau's menu

    cutoff = anonymise.default_cutoff().isoformat()
    wrong = client.post(URL, {"cutoff": cutoff, "confirmation": "确定"})
    assert wrong.status_code == 200
    with translation.override("zh-hans"):
        word = gettext("ANONYMISE")  # 确认匿名 once the catalogue has it
        refused = gettext("Type “%(word)s” exactly to confirm.") % {"word": word}
        done_message = gettext("Anonymised %(persons)s persons and %(households)s households.") % {
            "persons": 4,
            "households": 1,
        }
    assert refused in wrong.content.decode()
    stale = client.post(URL, {"cutoff": "2020-01-01", "confirmation": "确认匿名"})
    assert stale.status_code == 200
    assert fresh(register["ma_xiaodong"]).name == "马晓东"
    assert not AuditEvent.objects.filter(kind=AuditKind.ANONYMISE).exists()

    done = client.post(URL, {"cutoff": cutoff, "confirmation": "确认匿名"}, follow=True)
    assert done.status_code == 200
    assert done_message in done.content.decode()
    event = AuditEvent.objects.get(kind=AuditKind.ANONYMISE)
    assert (event.user, event.ip_address) == (world.bureau, "127.0.0.1")
    assert "王建国" in done.content.decode()  # who did it, listed on the page

    # the register shows the anonymised person without a name
    ma = fresh(register["ma_xiaodong"])
    listed = client.get(reverse("residents:person-list"), {"status": "moved_away"})
    assert ma.name in listed.content.decode()
    assert "马晓东" not in listed.content.decode()
    detail = client.get(reverse("residents:household-detail", args=[register["ma"].pk]))
    assert ma.name in detail.content.decode()
    assert "马晓东" not in detail.content.decode()  # not even in the household's notes
    assert f"户主{ma.name}在观前街开拉面馆" in detail.content.decode()
    assert "马小燕" in detail.content.decode()  # the active member keeps her name
    gone = client.get(reverse("residents:household-detail", args=[register["ha"].pk]))
    assert "平江路200号" not in gone.content.decode()


def test_the_command_dry_run_writes_nothing_then_the_run_does(world, register):
    before = (
        names(Person.objects.all()),
        Person.history.count(),
        Household.history.count(),
        AuditEvent.objects.count(),
    )
    out = StringIO()
    call_command("anonymise_departed", "--dry-run", "--user", "quminzongju", stdout=out)
    assert "4" in out.getvalue() and anonymise.default_cutoff().isoformat() in out.getvalue()
    after = (
        names(Person.objects.all()),
        Person.history.count(),
        Household.history.count(),
        AuditEvent.objects.count(),
    )
    assert after == before

    out = StringIO()
    call_command("anonymise_departed", "--user", "quminzongju", stdout=out)
    assert "马晓东" not in names(Person.objects.all())
    assert AuditEvent.objects.filter(kind=AuditKind.ANONYMISE, user=world.bureau).count() == 1
    with pytest.raises(CommandError):
        call_command("anonymise_departed", "--user", "nobody_here", stdout=StringIO())


def test_other_records_events_lose_the_name_and_address_in_their_label(world, register):
    """A visit's audit label carries the household's address, a consent's the person's name:
    after anonymising, the audit log no longer shows either."""
    ma = register["ma_xiaodong"]
    visit_event = audit.record(
        AuditKind.CREATE,
        user=world.pingjiang_staff,
        object_label="2021-10-25 · 平江路200号1幢301室",
    )
    consent_event = audit.record(
        AuditKind.CREATE, user=world.pingjiang_staff, object_label="马晓东 · 2021-10-25"
    )
    untouched = audit.record(
        AuditKind.CREATE, user=world.pingjiang_staff, object_label="马小燕 · 2025-03-01"
    )

    anonymise.persons_anonymise(user=world.bureau, cutoff=anonymise.default_cutoff())

    ma = fresh(ma)
    labels = dict(
        AuditEvent.objects.filter(
            pk__in=[visit_event.pk, consent_event.pk, untouched.pk]
        ).values_list("pk", "object_label")
    )
    assert "平江路200号" not in labels[visit_event.pk]
    assert labels[consent_event.pk] == f"{ma.name} · 2021-10-25"
    assert labels[untouched.pk] == "马小燕 · 2025-03-01"  # still on the register
