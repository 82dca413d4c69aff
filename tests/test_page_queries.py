"""Every list and detail page costs at most ``LIMIT`` SQL queries, and the same number
whatever the size of what it shows (issue 8: "the same query count at 1,000 and 100,000
persons, at most 15").

The data is one record of every kind in 平江路社区 (``tests.security.walk.build_estate``), then
grown twice around the same records: every page is counted at ``SMALL`` rows of each kind
(household members, the household's visits, a visit's visitors and follow-ups, a meeting's
attendees, a merchant's agreements, a card's uses, list rows …) and again at ``LARGE``. A
query made once per row shows as a difference between the two counts; the sizes are far
enough apart that no cache of a handful hides it.

Each page is requested once before it is counted (the session, the user's posts and the
per-process caches warmed, as they are for a user clicking through the application), and
the cache is cleared before every counted request, so the count is the one of a cold cache
(the compliance figures' cache is cold for the first user after every change).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

LIMIT = 15
SMALL = 3
LARGE = 30


@dataclass(frozen=True)
class Page:
    name: str
    role: str
    kwargs: tuple = ()  # (url keyword, record kind of the estate) pairs
    query: str = ""

    @property
    def id(self):
        kinds = ",".join(kind for _key, kind in self.kwargs if not kind.startswith("="))
        return f"{self.name}[{self.role}]" + (f"({kinds})" if kinds else "")


PK = lambda kind: (("pk", kind),)  # noqa: E731

PAGES = [
    Page("home", "community"),
    Page("home", "liaison"),
    # network
    Page("network:area-list", "district"),
    Page("network:area-detail", "subdistrict", PK("area")),
    Page("network:user-list", "district"),
    Page("network:user-detail", "district", PK("user")),
    Page("network:export-log", "district"),
    Page("network:audit-log", "district"),
    # residents
    Page("residents:person-list", "community"),
    Page("residents:person-list", "liaison"),
    Page("residents:register-print", "community"),
    Page("residents:household-detail", "district", PK("household")),
    Page("residents:household-detail", "subdistrict", PK("household")),
    Page("residents:household-detail", "community", PK("household")),
    Page("residents:household-detail", "liaison", PK("household")),
    Page("residents:household-timeline", "subdistrict", PK("household")),
    Page("residents:duplicate-list", "subdistrict"),
    Page("residents:permit-list", "subdistrict"),
    Page("residents:handover-list", "subdistrict"),
    Page("residents:dibao-standard-list", "subdistrict"),
    Page("residents:dibao-roster", "subdistrict"),
    # outreach: the network's people
    Page("outreach:liaison-list", "subdistrict"),
    Page("outreach:liaison-detail", "subdistrict", PK("liaison")),
    Page("outreach:workgroup-list", "subdistrict"),
    Page("outreach:workgroup-detail", "subdistrict", PK("workgroup")),
    # outreach: casework
    Page("outreach:pairing-list", "subdistrict"),
    Page("outreach:pairing-handover-list", "subdistrict"),
    Page("outreach:pairing-detail", "subdistrict", PK("pairing")),
    Page("outreach:visit-list", "subdistrict"),
    Page("outreach:visit-list", "liaison"),
    Page("outreach:visit-detail", "subdistrict", PK("visit")),
    Page("outreach:visit-detail", "liaison", PK("visit")),
    Page("outreach:followup-list", "community"),
    Page("outreach:meeting-list", "subdistrict"),
    Page("outreach:meeting-detail", "subdistrict", PK("meeting")),
    Page("outreach:meeting-detail", "liaison", PK("meeting")),
    Page("outreach:consultation-list", "community"),
    Page("outreach:consultation-detail", "community", PK("consultation")),
    Page("outreach:compliance", "district"),
    Page(
        "outreach:compliance-households",
        "subdistrict",
        query="obligation={obligation_hardship_visits}",
    ),
    Page("outreach:compliance-meetings", "subdistrict", query="obligation={obligation_meeting}"),
    Page("outreach:festival-visits", "subdistrict"),
    Page("outreach:log-home", "liaison"),
    Page("outreach:log-households", "liaison", query="q=mxd"),
    # services
    Page("services:merchant-list", "subdistrict"),
    Page("services:merchant-detail", "subdistrict", PK("merchant")),
    Page("services:agreement-list", "subdistrict"),
    Page("services:agreement-renewals", "subdistrict"),
    Page("services:agreement-detail", "subdistrict", PK("agreement")),
    Page("services:card-list", "subdistrict"),
    Page("services:card-detail", "subdistrict", PK("card")),
    Page("services:consent-list", "subdistrict"),
    Page("services:consent-person", "subdistrict", PK("person")),
    Page("services:use-list", "subdistrict"),
    Page("services:use-detail", "subdistrict", PK("use")),
    Page("services:settlement-choose", "subdistrict"),
    Page("services:settlement", "subdistrict", (("merchant_pk", "merchant"),)),
    Page("services:merchant-accounts", "subdistrict", (("merchant_pk", "merchant"),)),
    Page("services:till", "till"),
    Page("services:till-settlement", "till"),
    Page("services:survey-list", "subdistrict"),
    Page("services:survey-summary", "subdistrict"),
    Page("services:survey-detail", "subdistrict", PK("survey")),
    # reports
    Page("reports:figure-records", "subdistrict", (("key", "=minority_persons"),)),
    Page("reports:report-list", "subdistrict"),
    Page(
        "reports:report-records",
        "subdistrict",
        (("pk", "submitted"), ("key", "=minority_persons")),
    ),
    Page("reports:quality", "subdistrict"),
    Page("reports:budget-list", "subdistrict"),
]

# Pages that compute a report's figures: one aggregate query per figure over all the areas
# (``reports.catalogue``), so their count follows the figures a report holds (the annual
# summary holds them all), never the size of the data. They are held to that: the same
# count at both sizes, and no more than today's.
FIGURE_PAGES = {
    Page("reports:summary", "district"): 204,
    Page("reports:report-detail", "subdistrict", PK("report")): 29,  # a draft: live figures
    Page("reports:report-detail", "community", PK("submitted")): 19,  # frozen, with checks
}


# ---------------------------------------------------------------- the data, grown in place


def _users(prefix, start, stop):
    from network.models import User

    return User.objects.bulk_create(
        User(username=f"{prefix}{i}", real_name=f"马{['建华', '玉兰', '秀英'][i % 3]}{i}")
        for i in range(start, stop)
    )


def grow(town, start: int, stop: int) -> None:  # noqa: PLR0915 - one builder, kind by kind
    """Add rows ``start``..``stop`` of every kind around the own estate's records."""
    from network.models import AreaLevel, AuditEvent, ExportLog, LiaisonGroup, Post, Role
    from outreach.models import (
        Consultation,
        FollowUp,
        GroupMembership,
        Liaison,
        Meeting,
        Pairing,
        Photo,
        Visit,
        WorkGroup,
        WorkGroupMember,
    )
    from reports.models import Budget, Report, ReportEvent
    from residents.models import DibaoStandard, Household, Person
    from services.models import (
        Agreement,
        AgreementItem,
        BenefitKind,
        CardUse,
        Consent,
        Merchant,
        MerchantAccount,
        ServiceCard,
        ServiceCategory,
        Survey,
        SurveyAnswer,
        UseChannel,
    )
    from tests.factories import _ethnicity, valid_id_number

    w, estate = town.world, town.own
    ids = estate.ids
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    community, subdistrict = estate.community, estate.subdistrict
    staff = w.pingjianglu_staff
    group = w.pingjianglu_group
    hui = _ethnicity("03")
    numbers = range(start, stop)
    household = Household.objects.get(pk=ids["household"])
    person = Person.objects.get(pk=ids["person"])

    # the register: members of the household, other households (each with a namesake of
    # the first member: a duplicate pair), permits, households handed over to the community
    def resident(home, i, **extra):
        return Person(
            household=home,
            community=home.community,
            name=f"马晓{'东南西北'[i % 4]}{i}",
            name_pinyin=f"maxiaodong{i}",
            name_initials="mxd",
            sex="M" if i % 2 else "F",
            ethnicity=hui,
            id_number=valid_id_number(birth="19900101", sequence=f"{i:03d}"),
            birth_date=datetime.date(1990, 1, 1),
            residence_permit_expires_on=today + (10 + i) * day,
            **extra,
        )

    members = Person.objects.bulk_create(resident(household, i) for i in numbers)
    homes = Household.objects.bulk_create(
        Household(community=community, address=f"平江路{200 + i}号", is_dibao=True) for i in numbers
    )
    Person.objects.bulk_create(
        Person(
            household=home,
            community=community,
            name=person.name,
            sex="M",
            ethnicity=hui,
            birth_date=person.birth_date,
        )
        for home in homes
    )
    incoming = Household.objects.bulk_create(
        Household(
            community=w.ganjiang,
            address=f"干将路{i}号",
            handover_to=community,
            handover_sent_at=timezone.now(),
        )
        for i in numbers
    )
    Person.objects.bulk_create(
        Person(household=home, community=w.ganjiang, name="白梅", sex="F", ethnicity=hui)
        for home in incoming
    )
    DibaoStandard.objects.bulk_create(
        DibaoStandard(area=subdistrict, year=1990 + i, monthly_standard=800) for i in numbers
    )

    # the network: communities under the sub-district, liaison groups, users with posts
    from network.models import Area

    areas = [
        Area.objects.create(name=f"新建{i}社区", level=AreaLevel.COMMUNITY, parent=subdistrict)
        for i in numbers
    ]
    groups = LiaisonGroup.objects.bulk_create(
        LiaisonGroup(community=community, name=f"平江路第{i}联络组") for i in numbers
    )
    colleagues = _users("pjl_staff_", start, stop)
    Post.objects.bulk_create(
        Post(user=u, role=Role.COMMUNITY, area=community, start_date=today - 30 * day)
        for u in colleagues
    )
    Post.objects.bulk_create(
        Post(
            user_id=ids["user"],
            role=Role.COMMUNITY,
            area=area,
            start_date=datetime.date(2020, 1, 1),
            end_date=datetime.date(2021, 1, 1),
        )
        for area in areas
    )
    ExportLog.objects.bulk_create(
        ExportLog(
            user=staff,
            exporter="residents",
            label="居民台账",
            file_format="xlsx",
            row_count=i,
            area=community,
        )
        for i in numbers
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            user=staff,
            username=staff.username,
            kind="change",
            area=community,
            object_type="residents.household",
            object_id=str(household.pk),
            object_label=household.address,
            changes={"phone": ["0512-1", "0512-2"]},
        )
        for i in numbers
    )

    # liaisons and groups of the network
    liaisons = Liaison.objects.bulk_create(
        Liaison(community=community, name=f"白联络{i}", mobile=f"1391234{i:04d}") for i in numbers
    )
    GroupMembership.objects.bulk_create(
        GroupMembership(liaison=liaison, group=group) for liaison in liaisons
    )
    GroupMembership.objects.bulk_create(
        GroupMembership(liaison_id=ids["liaison"], group=g) for g in groups
    )
    WorkGroup.objects.bulk_create(
        WorkGroup(subdistrict=subdistrict, kind="coordination", name=f"协调小组{i}")
        for i in numbers
    )
    WorkGroupMember.objects.bulk_create(
        WorkGroupMember(group_id=ids["workgroup"], name=f"丁组员{i}", user=u)
        for i, u in zip(numbers, colleagues, strict=True)
    )

    # pairings, visits, follow-ups, photos, meetings, consultations
    Pairing.objects.bulk_create(
        Pairing(
            community=community,
            household=household,
            kind="f4",
            partner_user=staff if i % 2 else None,
            partner_liaison=None if i % 2 else liaison,
            person=member,
            start_date=today - 50 * day,
            visits_per_year=4,
        )
        for i, liaison, member in zip(numbers, liaisons, members, strict=True)
    )
    visits = Visit.objects.bulk_create(
        Visit(
            household=household,
            community=community,
            liaison_group=group,
            pairing_id=ids["pairing"],
            kind="care",
            visited_on=today - (i % 300) * day,
            learned=f"了解到第{i}件事",
            created_by=staff,
        )
        for i in numbers
    )
    Visit.visitors.through.objects.bulk_create(
        Visit.visitors.through(visit_id=v.pk, user_id=u.pk)
        for v, u in zip(visits, colleagues, strict=True)
    )
    Visit.visitors.through.objects.bulk_create(
        Visit.visitors.through(visit_id=ids["visit"], user_id=u.pk) for u in colleagues
    )
    Visit.visiting_liaisons.through.objects.bulk_create(
        Visit.visiting_liaisons.through(visit_id=ids["visit"], liaison_id=x.pk) for x in liaisons
    )
    FollowUp.objects.bulk_create(
        FollowUp(visit=v, action=f"跟进第{v.pk}件", due_on=today - day, assignee=staff)
        for v in visits
    )
    FollowUp.objects.bulk_create(
        FollowUp(visit_id=ids["visit"], action=f"回访{i}", due_on=today + day, assignee=u)
        for i, u in zip(numbers, colleagues, strict=True)
    )
    Photo.objects.bulk_create(
        Photo(
            visit_id=ids["visit"],
            community=community,
            liaison_group=group,
            image=f"photos/{i}.jpg",
            uploaded_by=staff,
        )
        for i in numbers
    )
    meetings = Meeting.objects.bulk_create(
        Meeting(
            kind="liaison",
            area=community,
            liaison_group=group,
            held_on=today - (i % 300) * day,
            title=f"第{i}次联络员会议",
            created_by=staff,
        )
        for i in numbers
    )
    through = Meeting.attending_users.through
    through.objects.bulk_create(
        through(meeting_id=ids["meeting"], user_id=u.pk) for u in colleagues
    )
    through = Meeting.attending_liaisons.through
    through.objects.bulk_create(
        through(meeting_id=ids["meeting"], liaison_id=x.pk) for x in liaisons
    )
    through.objects.bulk_create(
        through(meeting_id=m.pk, liaison_id=x.pk) for m, x in zip(meetings, liaisons, strict=True)
    )
    through = Meeting.attending_persons.through
    through.objects.bulk_create(through(meeting_id=ids["meeting"], person_id=m.pk) for m in members)
    Photo.objects.bulk_create(
        Photo(
            meeting_id=ids["meeting"],
            community=community,
            liaison_group=group,
            image=f"photos/m{i}.jpg",
            uploaded_by=staff,
        )
        for i in numbers
    )
    Consultation.objects.bulk_create(
        Consultation(
            community=community,
            channel="hotline",
            topic="policy",
            summary=f"咨询低保政策{i}",
            person=member,
            handler=staff,
        )
        for i, member in zip(numbers, members, strict=True)
    )

    # services: merchants, agreements and items, consents, cards and uses, surveys
    merchants = Merchant.objects.bulk_create(
        Merchant(
            area=subdistrict,
            name=f"清真牛肉面馆{i}",
            category=ServiceCategory.HALAL_FOOD,
            address=f"观前街{i}号",
        )
        for i in numbers
    )
    Merchant.serves.through.objects.bulk_create(
        Merchant.serves.through(merchant_id=m.pk, area_id=community.pk) for m in merchants
    )
    Merchant.serves.through.objects.bulk_create(
        Merchant.serves.through(merchant_id=ids["merchant"], area_id=a.pk) for a in areas
    )
    agreements = Agreement.objects.bulk_create(
        Agreement(
            merchant_id=ids["merchant"] if i % 2 else m.pk,
            area=subdistrict,
            number=f"PJ-{i}",
            valid_from=today - 90 * day,
            valid_to=today + (20 + i) * day,
            status="signed",
        )
        for i, m in zip(numbers, merchants, strict=True)
    )
    AgreementItem.objects.bulk_create(
        AgreementItem(
            agreement=a,
            category=ServiceCategory.HALAL_FOOD,
            description="牛肉面",
            benefit_kind=BenefitKind.PERCENT_OFF,
            percent_off=Decimal("10"),
        )
        for a in agreements
    )
    AgreementItem.objects.bulk_create(
        AgreementItem(
            agreement_id=ids["agreement"],
            category=ServiceCategory.HALAL_FOOD,
            description=f"拉面{i}",
            benefit_kind=BenefitKind.PERCENT_OFF,
            percent_off=Decimal("10"),
        )
        for i in numbers
    )
    MerchantAccount.objects.bulk_create(
        MerchantAccount(user=u, merchant_id=ids["merchant"]) for u in _users("till_", start, stop)
    )
    Consent.objects.bulk_create(
        Consent(person=m, given_on=today - 30 * day, recorded_by=staff) for m in members
    )
    cards = ServiceCard.objects.bulk_create(
        ServiceCard(
            number=f"PJQ{i:06d}",
            holder=m,
            issuing_area=subdistrict,
            issued_on=today - 30 * day,
            valid_until=today + 300 * day,
            issued_by=staff,
        )
        for i, m in zip(numbers, members, strict=True)
    )
    CardUse.objects.bulk_create(
        CardUse(
            card_id=ids["card"] if i % 2 else card.pk,
            merchant_id=ids["merchant"],
            item_id=AgreementItem.objects.filter(agreement_id=ids["agreement"]).first().pk,
            used_on=today - (i % 20) * day,
            value_before=Decimal("30.00"),
            value_after=Decimal("27.00"),
            channel=UseChannel.DESK,
            recorded_by=staff,
        )
        for i, card in zip(numbers, cards, strict=True)
    )
    surveys = Survey.objects.bulk_create(
        Survey(household=household, respondent=m, recorded_by=staff) for m in members
    )
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(survey=s, direction="wants", category="medical") for s in surveys
    )
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(survey_id=ids["survey"], direction="offers", category=category)
        for category in list(ServiceCategory.values)[start:stop]  # up to 12
    )

    # reports: versions of the report, its steps, budgets
    report = Report.objects.get(pk=ids["report"])
    Report.objects.bulk_create(
        Report(
            definition=report.definition,
            area=community,
            period="2025",
            version=2 + i,
            figure_keys=report.figure_keys,
            generated_by=staff,
        )
        for i in numbers
    )
    ReportEvent.objects.bulk_create(
        ReportEvent(report=report, action="comment", by=u, comment=f"意见{i}")
        for i, u in zip(numbers, colleagues, strict=True)
    )
    Budget.objects.bulk_create(
        Budget(area=community, year=1990 + i, amount=Decimal("1000")) for i in numbers
    )


def submit_report(town) -> None:
    """A submitted report of 平江路社区, its figures frozen at the present size."""
    from reports import workflow
    from reports.models import ReportDefinition

    staff = town.world.pingjianglu_staff
    definition, _ = ReportDefinition.objects.get_or_create(
        title="平江路社区年度总结（报送）",
        area=town.own.subdistrict,
        period="2025",
        figure_keys="minority_persons\nhardship_households",
    )
    report = workflow.generate(definition, town.own.community, staff)
    town.own.ids["submitted"] = workflow.submit(report, staff).pk


# ---------------------------------------------------------------- counting


def _url(page, ids):
    kwargs = {k: (kind[1:] if kind.startswith("=") else ids[kind]) for k, kind in page.kwargs}
    path = reverse(page.name, kwargs=kwargs)
    return f"{path}?{page.query.format(**ids)}" if page.query else path


def _count(clients, page, ids, *, warm):
    client = clients[page.role]
    url = _url(page, ids)
    if warm:
        client.get(url)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), [q["sql"] for q in queries]


@pytest.fixture(scope="module")
def counts(module_db):
    from tests.conftest import build_world
    from tests.security.walk import build_town

    world = build_world()
    town = build_town(world)
    users = dict(town.users)
    clients = {}
    for role, user in users.items():
        if user is None or role in {"no_post", "ended_post"}:
            continue
        clients[role] = Client()
        clients[role].force_login(user)
    found = {}
    ids = town.own.ids
    from django.utils import timezone

    from outreach import compliance

    # Only an obligation the sub-district's compliance pages list: the migration's defaults
    # are gone on PostgreSQL after a test module that flushes the database ran first.
    today = timezone.localdate()
    context = compliance.build_context(
        users["subdistrict"], span=compliance.report_span(today), today=today
    )
    for obligation in sorted(context.obligations, key=lambda o: o.pk):
        if context.units_of(obligation):
            ids.setdefault(f"obligation_{obligation.kind}", obligation.pk)
    pages = [*PAGES, *FIGURE_PAGES]
    grow(town, 1, SMALL)
    submit_report(town)
    for page in pages:
        found[page.id] = [_count(clients, page, ids, warm=True)]
    grow(town, SMALL, LARGE)
    submit_report(town)
    for page in pages:
        found[page.id].append(_count(clients, page, ids, warm=False))
    return Counted(found, clients, ids)


@dataclass
class Counted:
    found: dict  # page id → [(count, sql) at SMALL, (count, sql) at LARGE]
    clients: dict  # role → signed-in client
    ids: dict  # record kind → pk, at LARGE

    def __getitem__(self, key):
        return self.found[key]


def _extra(small_sql, large_sql) -> str:
    """The queries of the larger page that the smaller one did not make."""
    return "\n".join(q for q in large_sql if q not in small_sql) or "\n".join(large_sql)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.id)
def test_a_page_costs_the_same_few_queries_at_every_size(counts, db, page):
    (small, small_sql), (large, large_sql) = counts[page.id]
    assert large == small, f"{small} queries at {SMALL}, {large} at {LARGE}:\n" + _extra(
        small_sql, large_sql
    )
    assert large <= LIMIT, f"{large} queries:\n" + "\n".join(large_sql)


@pytest.mark.parametrize("page", list(FIGURE_PAGES), ids=lambda p: p.id)
def test_a_report_page_costs_the_same_queries_at_every_size(counts, db, page):
    (small, small_sql), (large, large_sql) = counts[page.id]
    assert large == small, f"{small} queries at {SMALL}, {large} at {LARGE}:\n" + _extra(
        small_sql, large_sql
    )
    assert large <= FIGURE_PAGES[page]


def test_every_list_and_detail_page_is_counted():
    """A new list or detail page (a GET page named ``*-list`` or ``*-detail``) joins the
    table above, or the test says which is missing."""
    from tests.security.walk import routes

    counted = {page.name for page in [*PAGES, *FIGURE_PAGES]}
    pages = {r.name for r in routes() if r.name.endswith(("-list", "-detail"))}
    assert pages - counted == set()


def test_a_query_per_row_is_caught(counts, db, monkeypatch):
    """The comparison can fail: the household page reading each member's community by
    itself costs a query per member, and the count at ``LARGE`` members shows it."""
    from residents.selectors import Presenter

    page = Page("residents:household-detail", "community", PK("household"))
    usual = Presenter.row

    def row_by_row(self, person):
        person.community = type(person.community).objects.get(pk=person.community_id)
        return usual(self, person)

    monkeypatch.setattr(Presenter, "row", row_by_row)
    (small, _sql), (large, _sql) = counts[page.id]
    slow, _sql = _count(counts.clients, page, counts.ids, warm=False)
    assert slow >= large + LARGE > LIMIT
