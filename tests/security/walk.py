"""Helpers shared by the security sweeps: the URL patterns of the project, one record of every
kind in an area (``build_estate``), the users of every role, and a cheap snapshot of every
table of the Tongxin apps (one query) to prove that a refused request wrote nothing.

An *estate* is what a community's office holds: a household and a person, a liaison with a
group membership and a zone post, a leadership group with a member, a pairing, a visit with
a follow-up and a photo, a meeting, a consultation, a partner merchant with an agreement,
a consent, a card and a use, a till login, a survey, a report and a budget. The sweeps build
one in 平江路社区 (the signed-in users' own), one in 道前社区 (沧浪街道, foreign to every user
of 平江街道) and one in 御窑社区 of 相城区 (a district next door, foreign even to the bureau).
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.db import connection
from django.urls import URLPattern, reverse
from django.utils import timezone

from network.models import Area, AreaLevel, Post, Role
from network.scoped import ACCOUNT, LOGIN, PUBLIC, SCOPED
from tests.factories import (
    HouseholdFactory,
    LiaisonGroupFactory,
    PersonFactory,
    UserFactory,
    _ethnicity,
    make_user_with_post,
    valid_id_number,
)
from tests.network.test_url_walk import access_of
from tests.network.test_url_walk import walk as _walk

TONGXIN_APPS = ("network", "residents", "outreach", "services", "reports")
HUGE = "99999999999999999999"
CJK = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------- the URL patterns


@dataclass(frozen=True)
class Route:
    namespace: str | None
    pattern: URLPattern

    @property
    def name(self) -> str:
        return f"{self.namespace}:{self.pattern.name}" if self.namespace else self.pattern.name

    @property
    def access(self):
        return access_of(self.pattern.callback)

    @property
    def converters(self) -> dict:
        """Keyword → converter kind ("int", "str", "slug", "uuid", "path")."""
        found = getattr(self.pattern.pattern, "converters", {})
        return {k: type(c).__name__.replace("Converter", "").lower() for k, c in found.items()}

    def url(self, **kwargs) -> str:
        return reverse(self.name, kwargs=kwargs)

    def raw_url(self, **texts) -> str:
        """The URL with each keyword's text put in as is (values no converter would make)."""
        markers = {k: str(918273645 + n) for n, k in enumerate(self.converters)}
        path = reverse(
            self.name,
            kwargs={
                k: (int(m) if kind == "int" else f"m{m}")
                for (k, m), kind in zip(markers.items(), self.converters.values(), strict=True)
            },
        )
        for key, marker in markers.items():
            placed = marker if self.converters[key] == "int" else f"m{marker}"
            path = path.replace(placed, texts[key])
        return path

    def __str__(self):
        return self.name


def routes(kinds=(PUBLIC, LOGIN, SCOPED, ACCOUNT)) -> list[Route]:
    return [Route(ns, p) for ns, p in _walk() if ns != "admin" and access_of(p.callback) in kinds]


# ---------------------------------------------------------------- the data


@dataclass
class Estate:
    """One record of every kind in a community (``ids[kind]`` → pk) and the texts no page
    shown to an outsider may contain."""

    community: Area
    subdistrict: Area
    ids: dict = field(default_factory=dict)
    secrets: tuple = ()
    till: object = None


def _area(code, name, level, parent=None):
    return Area.objects.create(code=code, name=name, level=level, parent=parent)


def build_estate(
    *,
    community,
    second_community,
    subdistrict,
    zone,
    group,
    staff,
    tag: str,
    region: str,
    number: int,
) -> Estate:
    """One record of every kind in ``community`` (a household handed over to it from
    ``second_community``), made by ``staff``. ``tag`` goes into every text (平江路, 道前 …),
    ``region`` into ID numbers."""
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
        ZonePost,
    )
    from reports.models import Budget, Report, ReportDefinition
    from residents.models import DibaoStandard
    from services.cards import issue_card, record_consent
    from services.models import (
        Agreement,
        AgreementItem,
        AgreementStatus,
        BenefitKind,
        CardUse,
        Merchant,
        MerchantAccount,
        ServiceCategory,
        Survey,
        SurveyAnswer,
        UseChannel,
    )

    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    household = HouseholdFactory(community=community, address=f"{tag}街45号户籍秘密", is_dibao=True)
    person = PersonFactory(
        household=household,
        name=f"{tag[0]}秘民",
        ethnicity=_ethnicity("03"),
        id_number=valid_id_number(region=region, birth="19840714", sequence=f"{number}35"),
        birth_date=datetime.date(1984, 7, 14),
    )
    second = PersonFactory(
        household=household,
        name=f"{tag[0]}秘妻",
        ethnicity=_ethnicity("03"),
        id_number=valid_id_number(region=region, birth="19860302", sequence=f"{number}46"),
        birth_date=datetime.date(1986, 3, 2),
    )
    other_household = HouseholdFactory(community=community, address=f"{tag}街46号")
    PersonFactory(household=other_household, name=f"{tag[0]}邻居", ethnicity=_ethnicity("05"))
    incoming = HouseholdFactory(
        community=second_community, address=f"{tag}待移交户", handover_to=community
    )
    incoming.handover_sent_at = incoming.created_at
    incoming.save()
    PersonFactory(household=incoming, name=f"{tag[0]}待接", ethnicity=_ethnicity("03"))
    standard = DibaoStandard.objects.create(area=subdistrict, year=2026, monthly_standard=1000)

    user = make_user_with_post(f"{region}_staff_{tag}", f"{tag[0]}职员", Role.COMMUNITY, community)
    post = Post.objects.get(user=user)
    liaison = Liaison.objects.create(
        community=community, name=f"{tag[0]}联络员", mobile="13912340000"
    )
    membership = GroupMembership.objects.create(liaison=liaison, group=group)
    zone_post = ZonePost.objects.create(zone=zone, liaison=liaison, position="liaison")
    work_group = WorkGroup.objects.create(
        subdistrict=subdistrict, kind="leadership", name=f"{tag}民族工作领导小组"
    )
    member = WorkGroupMember.objects.create(group=work_group, name=f"{tag[0]}组长", position="head")
    pairing = Pairing.objects.create(
        community=community,
        household=household,
        kind="f4",
        partner_liaison=liaison,
        start_date=today - 100 * day,
    )
    visit = Visit.objects.create(
        household=household,
        community=community,
        liaison_group=group,
        kind="care",
        visited_on=today - 10 * day,
        learned=f"{tag}走访秘密",
        created_by=staff,
    )
    follow_up = FollowUp.objects.create(visit=visit, action=f"{tag}跟进", due_on=today + 5 * day)
    photo = Photo.objects.create(
        visit=visit, community=community, liaison_group=group, image="photos/none.jpg"
    )
    meeting = Meeting.objects.create(
        kind="liaison",
        area=community,
        liaison_group=group,
        held_on=today - 20 * day,
        title=f"{tag}会议秘密",
        created_by=staff,
    )
    consultation = Consultation.objects.create(
        community=community,
        channel="walk_in",
        topic="policy",
        summary=f"{tag}来访秘密",
        person=person,
    )

    merchant = Merchant.objects.create(
        area=subdistrict,
        name=f"{tag}清真拉面馆",
        category=ServiceCategory.HALAL_FOOD,
        address=f"{tag}街88号",
        contact_person=f"{tag[0]}老板",
        phone="0512-65123456",
    )
    merchant.serves.set([community])
    agreement = Agreement.objects.create(
        merchant=merchant,
        area=subdistrict,
        number=f"{region}-2026-01",
        signed_on=today - 100 * day,
        valid_from=today - 90 * day,
        valid_to=today + 275 * day,
        status=AgreementStatus.SIGNED,
    )
    item = AgreementItem.objects.create(
        agreement=agreement,
        category=ServiceCategory.HALAL_FOOD,
        description=f"{tag}牛肉面",
        benefit_kind=BenefitKind.PERCENT_OFF,
        percent_off=Decimal("20"),
        usual_price=Decimal("30.00"),
    )
    consent = record_consent(
        person, given_on=today - 200 * day, form_reference=f"{tag}-0001", user=staff
    )
    card = issue_card(person, user=staff, issued_on=today - 180 * day)
    use = CardUse.objects.create(
        card=card,
        merchant=merchant,
        item=item,
        used_on=today - 3 * day,
        value_before=Decimal("30.00"),
        value_after=Decimal("24.00"),
        channel=UseChannel.DESK,
        note=f"{tag}使用秘密",
        recorded_by=staff,
    )
    till = UserFactory(username=f"till_{region}_{tag}", real_name=f"{tag}收银")
    account = MerchantAccount.objects.create(user=till, merchant=merchant)
    survey = Survey.objects.create(
        household=household, respondent=person, note=f"{tag}调查秘密", recorded_by=staff
    )
    SurveyAnswer.objects.create(survey=survey, direction="wants", category="medical")

    definition = ReportDefinition.objects.create(
        title=f"{tag}年度总结", area=subdistrict, period="2025", figure_keys="minority_persons"
    )
    report = Report.objects.create(
        definition=definition,
        area=community,
        period="2025",
        version=1,
        narrative=f"{tag}总结秘密",
        figure_keys="minority_persons",
        generated_by=staff,
    )
    Budget.objects.create(area=community, year=2025, amount="8000", note=f"{tag}经费秘密")

    ids = {
        "area": community.pk,
        "liaisongroup": group.pk,
        "user": user.pk,
        "post": post.pk,
        "household": household.pk,
        "household2": other_household.pk,
        "person": person.pk,
        "person2": second.pk,
        "incoming": incoming.pk,
        "standard": standard.pk,
        "liaison": liaison.pk,
        "membership": membership.pk,
        "zonepost": zone_post.pk,
        "workgroup": work_group.pk,
        "workgroupmember": member.pk,
        "pairing": pairing.pk,
        "visit": visit.pk,
        "followup": follow_up.pk,
        "photo": photo.pk,
        "meeting": meeting.pk,
        "consultation": consultation.pk,
        "merchant": merchant.pk,
        "agreement": agreement.pk,
        "card": card.pk,
        "consent": consent.pk,
        "use": use.pk,
        "account": account.pk,
        "survey": survey.pk,
        "report": report.pk,
    }
    secrets = (
        household.address,
        person.name,
        person.id_number,
        f"{tag}走访秘密",
        f"{tag}会议秘密",
        f"{tag}来访秘密",
        f"{tag}使用秘密",
        f"{tag}调查秘密",
        f"{tag}总结秘密",
        f"{tag}经费秘密",
    )
    return Estate(community, subdistrict, ids, secrets, till)


@dataclass
class Town:
    """The world, its three estates and the users of every role."""

    world: object
    own: Estate  # 平江路社区
    canglang: Estate  # 道前社区 (沧浪街道)
    far: Estate  # 御窑社区 (相城区)
    till: object  # 平江路's merchant's till login
    users: dict  # role name → User or None (signed out)


def build_town(world) -> Town:
    w = world
    own = build_estate(
        community=w.pingjianglu,
        second_community=w.ganjiang,
        subdistrict=w.pingjiang,
        zone=w.north_zone,
        group=w.pingjianglu_group,
        staff=w.pingjiang_staff,
        tag="平江路",
        region="320508",
        number=1,
    )
    south = _area(None, "南片", AreaLevel.ZONE, w.canglang)
    nanmen = _area("320508002002", "南门社区", AreaLevel.COMMUNITY, w.canglang)
    canglang = build_estate(
        community=w.daoqian,
        second_community=nanmen,
        subdistrict=w.canglang,
        zone=south,
        group=w.daoqian_group,
        staff=w.canglang_staff,
        tag="道前",
        region="320508",
        number=2,
    )
    xiangcheng = _area("320507000000", "相城区", AreaLevel.DISTRICT)
    yuanhe = _area("320507001000", "元和街道", AreaLevel.SUBDISTRICT, xiangcheng)
    far_zone = _area(None, "元和北片", AreaLevel.ZONE, yuanhe)
    yuyao = _area("320507001001", "御窑社区", AreaLevel.COMMUNITY, far_zone)
    yangcheng = _area("320507001002", "阳澄社区", AreaLevel.COMMUNITY, yuanhe)
    far_staff = make_user_with_post("yuanhe", "沙元和", Role.SUBDISTRICT, yuanhe)
    far = build_estate(
        community=yuyao,
        second_community=yangcheng,
        subdistrict=yuanhe,
        zone=far_zone,
        group=LiaisonGroupFactory(community=yuyao),
        staff=far_staff,
        tag="御窑",
        region="320507",
        number=3,
    )
    users = {
        "district": w.bureau,
        "subdistrict": w.pingjiang_staff,
        "community": w.pingjianglu_staff,
        "liaison": w.pingjianglu_liaison,
        "till": own.till,
        "no_post": w.no_post,
        "ended_post": w.ended_post,
        "signed_out": None,
    }
    return Town(world=w, own=own, canglang=canglang, far=far, till=own.till, users=users)


# ---------------------------------------------------------------- nothing written


def _tables():
    found = []
    for label in TONGXIN_APPS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.managed and not model._meta.proxy:
                found.append((model._meta.db_table, model._meta.pk.column))
    return sorted(set(found))


def snapshot() -> dict:
    """Rows and highest id of every table of the Tongxin apps (their history tables too), in
    one query."""
    qn = connection.ops.quote_name
    parts = [
        f"SELECT '{table}', COUNT(*), MAX({qn(pk)}) FROM {qn(table)}" for table, pk in _tables()
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return {table: (count, top) for table, count, top in cursor.fetchall()}


def changed(before: dict, after: dict) -> list[str]:
    return [t for t in before if before[t] != after.get(t)]


def has_cjk(text: str) -> bool:
    return bool(CJK.search(text or ""))


def _pending_patterns():
    """The English msgids of this sweep's fixes whose Chinese waits in
    locale/pending/sweep.json for the next compilemessages, as patterns of their text."""
    import json
    from pathlib import Path

    from django.conf import settings

    path = Path(settings.BASE_DIR) / "locale" / "pending" / "sweep.json"
    if not path.exists():
        return []
    patterns = []
    for msgid, msgstr in json.loads(path.read_text(encoding="utf-8")).items():
        if has_cjk(msgstr):
            parts = re.split(r"%\(\w+\)[sd]", msgid)
            patterns.append(re.compile(".+".join(re.escape(p) for p in parts)))
    return patterns


def chinese(text: str) -> bool:
    """The message is in Chinese, or is one of this sweep's new messages whose Chinese is
    written (locale/pending/sweep.json) but not compiled yet."""
    return has_cjk(text) or any(p.fullmatch(text or "") for p in _pending_patterns())
