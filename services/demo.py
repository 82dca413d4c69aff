"""Demo partner merchants and service cards for the 姑苏区 demo district, after seed 000:
street offices sign service agreements with local firms and shops (医疗卫生、建筑装修、家电维修、
缝纫修补、各类咨询、家政服务、搬家、美发, 清真餐饮), issue numbered cards to minority residents
(平江街道's 三优服务卡: 61 cards, 200 余人次; the others' 社区灵通服务卡) and count the uses.

- In every sub-district a handful of merchants across the trades, serving its communities;
  each with an agreement in force (and the expired one before it), one agreement expiring
  within the renewal window, one merchant whose only agreement has expired, one draft
  renewal; items with realistic benefits (free, a percentage off, a fixed price) and usual
  prices.
- Consents and cards for some tens of residents per sub-district (61 cards in 平江街道 when
  the register has the people), issued over the demo years; some cards lost and reissued,
  one consent withdrawn and its card revoked, a few consents still waiting for a card.
- Uses over the demo years (200 and more in 平江街道 alone), each on a day its card and its
  merchant's agreement were valid, at the desk or at the till; a few voided.
- Two-way service surveys of some households (some surveyed twice), what they want and
  what they can offer, with some wanted services that no merchant offers yet.
- A till login for the first merchant of each sub-district (``TILL_LOGINS``), password
  ``Tongxin-2026``.

Deterministic for a seed on a given day: one ``random.Random(seed)``, never the global
random or the clock. Idempotent like the other demo modules: when the demo district has
partner merchants, nothing is added. ``years=0`` (the district and its register alone):
nothing either. Rows are written with ``bulk_create``, which writes no history rows: demo
data has no past worth auditing.
"""

import datetime
import itertools
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from network.models import Area, AreaLevel, Post, Role, User
from residents.models import Household, Person, PersonStatus, Relation
from services.cards import card_prefix, default_valid_until, with_check_digit
from services.models import (
    RENEWAL_DAYS,
    Agreement,
    AgreementItem,
    AgreementStatus,
    BenefitKind,
    CardScheme,
    CardStatus,
    CardUse,
    Consent,
    Merchant,
    MerchantAccount,
    ServiceCard,
    ServiceCategory,
    Survey,
    SurveyAnswer,
    SurveyDirection,
    UseChannel,
)

DISTRICT_CODE = "320508000000"
DEFAULT_YEARS = 3
DEMO_PASSWORD = "Tongxin-2026"
BATCH = 2000
C = ServiceCategory
FREE, OFF, PRICE = BenefitKind.FREE, BenefitKind.PERCENT_OFF, BenefitKind.FIXED_PRICE

# (description, benefit kind, percent off or fixed price, usual price, conditions)
Item = tuple[str, str, str | None, str, str]


@dataclass(frozen=True)
class MerchantSpec:
    name: str
    category: str
    address: str
    contact: str
    items: tuple[Item, ...]


def spec(header: tuple[str, str, str, str], *items: Item) -> MerchantSpec:
    return MerchantSpec(*header, items)


# The merchants of each sub-district, by division code; the first has a till login.
# spec((name, category, address, contact), *items)
MERCHANTS = {
    "320508001000": (
        spec(
            ("马记清真拉面馆", C.HALAL_FOOD, "平江路88号", "马福来"),
            ("清真牛肉拉面", OFF, "20", "22.00", ""),
            ("家常菜套餐", PRICE, "15.00", "25.00", ""),
            ("高龄老人免费送餐", FREE, None, "5.00", "限70岁以上持卡人"),
        ),
        spec(
            ("好人家家庭装饰公司", C.RENOVATION, "白塔东路56号", "顾建华"),
            ("上门测量设计", FREE, None, "200.00", ""),
            ("卫生间防水维修", OFF, "15", "1200.00", "材料费另计"),
        ),
        spec(
            ("平江社区卫生服务站", C.MEDICAL, "悬桥巷12号", "沈医生"),
            ("测血压血糖", FREE, None, "20.00", ""),
            ("中医推拿理疗", OFF, "30", "80.00", ""),
        ),
        spec(
            ("侬侬美发专业商店", C.HAIRDRESSING, "临顿路203号", "陆侬侬"),
            ("剪发", PRICE, "10.00", "30.00", ""),
            ("烫染", OFF, "20", "200.00", ""),
            ("行动不便老人上门理发", FREE, None, "30.00", "需提前一天预约"),
        ),
        spec(
            ("巧手缝纫铺", C.TAILORING, "大儒巷7号", "朱阿姨"),
            ("衣物缝补", FREE, None, "15.00", ""),
            ("民族服装定制", OFF, "10", "600.00", ""),
        ),
        spec(
            ("平江法律服务所", C.CONSULTING, "干将东路300号", "许律师"),
            ("法律咨询", FREE, None, "200.00", ""),
            ("代写法律文书", OFF, "50", "300.00", ""),
        ),
    ),
    "320508002000": (
        spec(
            ("红太阳搬家服务部", C.MOVING, "人民路1088号", "曹师傅"),
            ("市内搬家", OFF, "20", "600.00", ""),
            ("老人搬家", PRICE, "300.00", "500.00", "限60岁以上持卡人"),
        ),
        spec(
            ("苏城家电维修部", C.APPLIANCE, "道前街12号", "周师傅"),
            ("上门维修家电", OFF, "30", "80.00", "配件按原价"),
            ("空调清洗", PRICE, "60.00", "120.00", ""),
        ),
        spec(
            ("阿里木清真牛羊肉店", C.HALAL_FOOD, "南门路66号", "阿里木"),
            ("清真牛羊肉", OFF, "5", "100.00", ""),
        ),
        spec(
            ("巧手家政服务社", C.HOUSEKEEPING, "三元坊18号", "钱秀英"),
            ("家庭保洁", OFF, "20", "150.00", ""),
            ("老人陪护", OFF, "10", "200.00", "按日计"),
        ),
        spec(
            ("沧浪心理咨询室", C.CONSULTING, "府前街9号", "孙老师"),
            ("心理咨询", FREE, None, "300.00", "每年限三次"),
        ),
        spec(
            ("南门口腔诊所", C.MEDICAL, "南环东路21号", "吴医生"),
            ("口腔检查", FREE, None, "50.00", ""),
            ("洗牙", OFF, "30", "200.00", ""),
        ),
    ),
    "320508003000": (
        spec(
            ("兰州牛肉面馆", C.HALAL_FOOD, "十全街101号", "马占林"),
            ("牛肉面", OFF, "20", "20.00", ""),
            ("清真小炒", OFF, "10", "40.00", ""),
        ),
        spec(
            ("双塔家电服务中心", C.APPLIANCE, "凤凰街45号", "蒋师傅"),
            ("上门维修家电", OFF, "20", "100.00", ""),
        ),
        spec(
            ("安居装修队", C.RENOVATION, "定慧寺巷3号", "徐建军"),
            ("水电维修", OFF, "20", "300.00", "材料费另计"),
        ),
        spec(
            ("佳美家政", C.HOUSEKEEPING, "官太尉桥8号", "杨美玲"),
            ("家庭保洁", OFF, "15", "120.00", ""),
        ),
        spec(
            ("竹辉社区门诊部", C.MEDICAL, "竹辉路150号", "金医生"),
            ("健康体检", PRICE, "50.00", "150.00", "每年一次"),
        ),
        spec(
            ("顺心搬家公司", C.MOVING, "盘门路22号", "王顺心"),
            ("市内搬家", OFF, "10", "500.00", ""),
        ),
    ),
}
# Sub-district code → (username, real name) of its first merchant's till.
TILL_LOGINS = {
    "320508001000": ("majilamian", "马记拉面收银"),
    "320508002000": ("hongtaiyang", "红太阳搬家前台"),
    "320508003000": ("lanzhoumian", "兰州牛肉面收银"),
}
# Sub-district code → (card scheme, cards to issue, uses): seed 000's 平江街道 issued 61
# 三优服务卡 and counted 200 余人次; the others issue 社区灵通服务卡.
CARD_PLANS = {
    "320508001000": (CardScheme.SANYOU, 61, 220),
    "320508002000": (CardScheme.LINGTONG, 24, 80),
    "320508003000": (CardScheme.LINGTONG, 20, 70),
}
ADULT_AGE = 18
WANTED = [  # (category, weight, details a household gives)
    (C.MEDICAL, 10, ["老人慢性病上门随访", "体检优惠", "看牙"]),
    (C.HOUSEKEEPING, 7, ["老人日常保洁", "钟点工", "月嫂"]),
    (C.APPLIANCE, 6, ["空调维修", "热水器维修", ""]),
    (C.RENOVATION, 5, ["厨房改造", "卫生间漏水", ""]),
    (C.HALAL_FOOD, 6, ["清真食品购买方便", "清真送餐", ""]),
    (C.EMPLOYMENT, 5, ["子女就业推荐", "再就业培训"]),
    (C.EDUCATION, 5, ["孩子课后辅导", "电脑培训"]),
    (C.CONSULTING, 4, ["法律咨询", "心理疏导"]),
    (C.HAIRDRESSING, 3, ["上门理发"]),
    (C.MOVING, 2, ["老人换房搬家", ""]),
    (C.TAILORING, 2, ["民族服装修补"]),
]
OFFERED = [
    (C.TAILORING, 4, ["会做民族服装", "缝补衣物"]),
    (C.HALAL_FOOD, 4, ["会做清真糕点", "拉面手艺"]),
    (C.EDUCATION, 4, ["可辅导初中数学", "会教阿拉伯语", "书法"]),
    (C.HAIRDRESSING, 2, ["会理发"]),
    (C.APPLIANCE, 2, ["懂电器维修"]),
    (C.CONSULTING, 2, ["退休律师，可提供法律咨询", "翻译维吾尔语"]),
    (C.OTHER, 3, ["愿意参加志愿服务", "可陪老人聊天"]),
]
LOSS_REASONS = ["持卡人报告遗失", "钱包被盗，卡一并丢失", "搬家时遗失"]
VOID_NOTES = ["重复登记", "持卡人未实际消费", "服务项目选错"]


def build(*, seed: int, stdout, years=DEFAULT_YEARS, today=None, **_options):
    """Build the demo district's merchants, agreements, cards, uses and surveys unless it has
    partner merchants; return the till logins to print."""
    years = DEFAULT_YEARS if years is None else int(years)
    district = Area.objects.filter(code=DISTRICT_CODE).first()
    if district is None or years <= 0:
        return []
    if Merchant.objects.filter(area__path__startswith=district.path).exists():
        stdout.write("The demo district already has partner merchants; keeping them.")
        return _logins(district)
    with transaction.atomic():
        builder = _Builder(random.Random(seed), today or timezone.localdate(), years, district)
        counts = builder.build()
    stdout.write(
        "Services: {merchants} partner merchants, {agreements} agreements, {cards} cards "
        "({lost} lost and reissued, {revoked} revoked), {uses} uses, {surveys} surveys.".format(
            **counts
        )
    )
    return _logins(district)


def _logins(district: Area) -> list[tuple[str, str, str, str]]:
    accounts = (
        MerchantAccount.objects.filter(
            merchant__area__path__startswith=district.path,
            user__username__in=[u for u, _n in TILL_LOGINS.values()],
        )
        .select_related("user", "merchant")
        .order_by("merchant__area__code", "user__username")
    )
    role = _("merchant till")
    return [(a.user.username, DEMO_PASSWORD, role, a.merchant.name) for a in accounts]


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass
class _Card:
    card: ServiceCard
    until: datetime.date  # the last day it could be used
    community_id: int
    holder_id: int


@dataclass
class _Place:
    merchant: Merchant
    agreements: list[Agreement] = field(default_factory=list)
    items: dict[int, list[AgreementItem]] = field(default_factory=dict)  # agreement pk → items
    till: User | None = None


class _Builder:
    def __init__(self, rng: random.Random, today: datetime.date, years: int, district: Area):
        self.rng = rng
        self.today = today
        self.start = _years_before(today, years) + datetime.timedelta(days=1)
        self.district = district
        areas = list(
            Area.objects.filter(path__startswith=district.path, is_active=True).order_by(
                "code", "path"
            )
        )
        self.subdistricts = [a for a in areas if a.level == AreaLevel.SUBDISTRICT]
        self.communities = {
            sub.pk: [a for a in areas if a.level == AreaLevel.COMMUNITY and sub.contains(a)]
            for sub in self.subdistricts
        }
        self.staff = self._staff()
        self.counts = dict.fromkeys(
            ("merchants", "agreements", "cards", "lost", "revoked", "uses", "surveys"), 0
        )

    def _staff(self) -> dict[int, list[tuple[str, User]]]:
        """Who records at the desk in each area: its current staff and liaisons."""
        found: dict[int, list[tuple[str, User]]] = {}
        posts = (
            Post.objects.current(self.today)
            .filter(area__path__startswith=self.district.path)
            .select_related("user")
            .order_by("pk")
        )
        for post in posts:
            found.setdefault(post.area_id, []).append((post.role, post.user))
        return found

    def desk_user(self, area_ids: list[int], liaisons: bool = False) -> User | None:
        """Someone who works at one of ``area_ids`` (the nearest first)."""
        for area_id in area_ids:
            users = [
                u for role, u in self.staff.get(area_id, []) if liaisons or role != Role.LIAISON
            ]
            if users:
                return self.rng.choice(users)
        return None

    def day_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        return first + datetime.timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def key(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def moment(self, day: datetime.date) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(17, 30)))

    # ------------------------------------------------------------------ the whole build

    def build(self) -> dict:
        for sub in self.subdistricts:
            specs = MERCHANTS.get(sub.code)
            communities = self.communities.get(sub.pk, [])
            if not specs or not communities:
                continue
            places = self.merchants(sub, specs, communities)
            cards = self.cards(sub, communities)
            self.uses(sub, places, cards)
            self.surveys(sub, communities)
        return self.counts

    # ------------------------------------------------------------------ merchants

    def merchants(self, sub: Area, specs, communities) -> list[_Place]:
        rng = self.rng
        number = int(sub.code[6:9])
        merchants = [
            Merchant(
                area=sub,
                name=spec.name,
                category=spec.category,
                address=spec.address,
                contact_person=spec.contact,
                phone=f"0512-6{rng.randrange(10**6, 10**7)}",
                licence_number=self.licence(number, index),
                submission_key=self.key(),
            )
            for index, spec in enumerate(specs)
        ]
        Merchant.objects.bulk_create(merchants)
        served = []
        for index, merchant in enumerate(merchants):
            # the first merchants serve the whole street, the others the communities near them
            near = (
                communities if index < 2 else rng.sample(communities, max(1, len(communities) // 2))
            )
            served += [Merchant.serves.through(merchant=merchant, area=a) for a in near]
        Merchant.serves.through.objects.bulk_create(served)
        self.counts["merchants"] += len(merchants)

        places = [_Place(merchant=m) for m in merchants]
        agreements, items = [], []
        renewal = len(places) - 2  # its agreement ends within the renewal window
        lapsed = len(places) - 1  # its only agreement has expired
        for index, place in enumerate(places):
            for agreement in self.agreements_of(sub, place.merchant, index, renewal, lapsed):
                place.agreements.append(agreement)
                agreements.append(agreement)
        Agreement.objects.bulk_create(agreements)
        for place, spec in zip(places, specs, strict=True):
            for agreement in place.agreements:
                made = [self.item(agreement, item) for item in spec.items]
                place.items[agreement.pk] = made
                items += made
        AgreementItem.objects.bulk_create(items)
        self.counts["agreements"] += len(agreements)
        self.till(sub, places[0])
        return places

    @staticmethod
    def licence(town: int, index: int) -> str:
        """A plausible 18-character unified social credit code, unique in the demo."""
        return f"92320508MA{town:03d}{index:02d}D{index % 10}X"[:18]

    def agreements_of(self, sub, merchant, index, renewal, lapsed) -> list[Agreement]:
        """The merchant's earlier agreement (expired), its current one, and for one merchant
        a draft renewal; ``renewal``'s current agreement ends soon, ``lapsed``'s ended."""
        rng, today = self.rng, self.today
        first_from = self.start - datetime.timedelta(days=rng.randint(200, 400))
        current_from = today - datetime.timedelta(days=rng.randint(150, 500))
        if index == renewal:
            current_to = today + datetime.timedelta(days=rng.randint(15, RENEWAL_DAYS - 10))
        elif index == lapsed:
            current_to = today - datetime.timedelta(days=rng.randint(20, 90))
            current_from = min(current_from, current_to - datetime.timedelta(days=300))
        else:
            current_to = today + datetime.timedelta(days=rng.randint(120, 800))
        code = sub.name[:2]
        found = [
            self.agreement(
                merchant,
                f"{code}-{first_from.year}-{index + 1:02d}",
                first_from,
                current_from - datetime.timedelta(days=1),
            ),
            self.agreement(
                merchant, f"{code}-{current_from.year}-{index + 11:02d}", current_from, current_to
            ),
        ]
        if index == renewal:
            found.append(
                self.agreement(
                    merchant,
                    "",
                    current_to + datetime.timedelta(days=1),
                    _years_before(current_to, -2),
                    status=AgreementStatus.DRAFT,
                    signed_on=None,
                    note="续签协议草稿，待商户确认优惠项目。",
                )
            )
        return found

    def agreement(self, merchant, number, valid_from, valid_to, **fields) -> Agreement:
        """An agreement of ``merchant``, signed a few days before it starts unless ``fields``
        say otherwise."""
        signed_on = valid_from - datetime.timedelta(days=self.rng.randint(3, 20))
        values = {"signed_on": signed_on, "status": AgreementStatus.SIGNED}
        return Agreement(
            merchant=merchant,
            area=merchant.area,
            number=number,
            valid_from=valid_from,
            valid_to=valid_to,
            submission_key=self.key(),
            **(values | fields),
        )

    @staticmethod
    def item(agreement: Agreement, spec: Item) -> AgreementItem:
        description, kind, amount, usual, conditions = spec
        return AgreementItem(
            agreement=agreement,
            category=agreement.merchant.category,
            description=description,
            benefit_kind=kind,
            percent_off=Decimal(amount) if kind == OFF else None,
            fixed_price=Decimal(amount) if kind == PRICE else None,
            usual_price=Decimal(usual),
            conditions=conditions,
        )

    def till(self, sub: Area, place: _Place) -> None:
        username, real_name = TILL_LOGINS.get(sub.code, (None, None))
        if username is None or User.objects.filter(username=username).exists():
            return
        user = User(username=username, real_name=real_name)
        user.set_password(DEMO_PASSWORD)
        user.save()
        MerchantAccount.objects.create(user=user, merchant=place.merchant)
        place.till = user

    # ------------------------------------------------------------------ consents and cards

    def cards(self, sub: Area, communities) -> list[_Card]:
        rng, today = self.rng, self.today
        scheme, wanted, _uses = CARD_PLANS.get(sub.code, (CardScheme.LINGTONG, 20, 60))
        people = list(
            Person.objects.filter(
                community__in=communities,
                archived_at__isnull=True,
                status=PersonStatus.ACTIVE,
                household__archived_at__isnull=True,
                birth_date__lte=_years_before(today, ADULT_AGE),
            )
            .exclude(service_cards__status=CardStatus.ACTIVE)
            .exclude(
                Exists(Consent.objects.filter(person=OuterRef("pk"), withdrawn_on__isnull=True))
            )
            .order_by("pk")
            .values_list("pk", "community_id")
        )
        # ``wanted`` cards issued in all, the reissues for lost ones included
        count = max((n for n in range(wanted + 1) if n + n // 12 + 1 <= wanted), default=0)
        chosen = sorted(rng.sample(people, min(len(people), count + 4)))
        holders, waiting = chosen[:count], chosen[count:]  # waiting: consented, no card yet
        prefix = card_prefix(sub)
        last = (
            ServiceCard.objects.filter(number__startswith=prefix)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        numbers = (
            with_check_digit(f"{prefix}{n:06d}")
            for n in itertools.count((int(last[len(prefix) : -1]) if last else 0) + 1)
        )
        latest_issue = max(self.start, today - datetime.timedelta(days=20))
        plan = sorted(  # numbers follow the issue dates
            (self.day_between(self.start, latest_issue), person_id, community_id)
            for person_id, community_id in holders
        )
        # about one card in twelve is lost (of those held a month at least); the holder of
        # the oldest other card withdraws consent, and that card is revoked
        old_enough = [i for i, row in enumerate(plan) if row[0] < today - datetime.timedelta(30)]
        lost = set(rng.sample(old_enough, min(len(old_enough), len(plan) // 12 + 1)))
        revoked = next((i for i in old_enough if i not in lost), None)
        consents, made = [], []

        def card(holder_id, community_id, issued, user, **fields) -> _Card:
            made_card = ServiceCard(
                number=next(numbers),
                scheme=scheme,
                holder_id=holder_id,
                issuing_area=sub,
                issued_on=issued,
                valid_until=default_valid_until(issued),
                issued_by=user,
                **fields,
            )
            until = min(made_card.valid_until, today)
            if fields.get("status_changed_on"):
                until = min(until, fields["status_changed_on"] - datetime.timedelta(days=1))
            made.append(_Card(made_card, until, community_id, holder_id))
            return made[-1]

        def consent(person_id, given, user, withdrawn=None) -> None:
            reference = f"{prefix}-{len(consents) + 1:04d}"
            consents.append(
                Consent(
                    person_id=person_id,
                    given_on=given,
                    form_reference=reference,
                    withdrawn_on=withdrawn,
                    recorded_by=user,
                )
            )

        for index, (issued, person_id, community_id) in enumerate(plan):
            user = self.desk_user([community_id, sub.pk])
            given = max(self.start, issued - datetime.timedelta(days=rng.randint(0, 14)))
            withdrawn, status = None, {}
            if index == revoked:
                withdrawn = self.day_between(issued + datetime.timedelta(days=5), today)
                status = {"status_reason": "本人撤回知情同意", "status_changed_on": withdrawn}
                status["status"] = CardStatus.REVOKED
            elif index in lost:
                last_day = min(today, default_valid_until(issued))
                changed_on = self.day_between(issued + datetime.timedelta(days=10), last_day)
                status = {
                    "status_reason": rng.choice(LOSS_REASONS),
                    "status_changed_on": changed_on,
                }
                status["status"] = CardStatus.LOST
            consent(person_id, given, user, withdrawn)
            card(person_id, community_id, issued, user, **status)
        recent = max(self.start, today - datetime.timedelta(90))
        for person_id, community_id in waiting:
            consent(
                person_id,
                self.day_between(recent, today),
                self.desk_user([community_id, sub.pk]),
            )
        first_issue = [entry.card for entry in made]
        ServiceCard.objects.bulk_create(first_issue)
        # lost cards are reissued the day they were reported, numbered after the others
        for entry in list(made):
            old = entry.card
            if old.status == CardStatus.LOST:
                reported = old.status_changed_on
                card(entry.holder_id, entry.community_id, reported, old.issued_by, replaces=old)
        ServiceCard.objects.bulk_create([entry.card for entry in made[len(first_issue) :]])
        Consent.objects.bulk_create(consents, batch_size=BATCH)
        self.counts["cards"] += len(made)
        self.counts["lost"] += len(made) - len(first_issue)
        self.counts["revoked"] += sum(c.status == CardStatus.REVOKED for c in first_issue)
        return made

    # ------------------------------------------------------------------ uses

    def uses(self, sub: Area, places: list[_Place], cards: list[_Card]) -> None:
        rng = self.rng
        wanted = CARD_PLANS.get(sub.code, (None, 20, 60))[2]
        usable = [c for c in cards if c.until >= c.card.issued_on]
        if not usable or not places:
            return
        # some holders use their card often (the elderly's free meals), most now and then
        weights = [rng.choice((1, 1, 1, 2, 3, 6)) for _c in usable]
        serving = self.serving(places)
        rows = []
        attempts = 0
        while len(rows) < wanted and attempts < wanted * 20:
            attempts += 1
            entry = rng.choices(usable, weights)[0]
            day = self.day_between(entry.card.issued_on, entry.until)
            offers = [
                (place, item)
                for place in serving.get(entry.community_id, [])
                for agreement in place.agreements
                if agreement.status == AgreementStatus.SIGNED
                and agreement.valid_from <= day <= agreement.valid_to
                for item in place.items[agreement.pk]
            ]
            if not offers:
                continue
            place, item = rng.choice(offers)
            rows.append(self.use(sub, entry, place, item, day))
        CardUse.objects.bulk_create(rows, batch_size=BATCH)
        self.counts["uses"] += sum(1 for r in rows if r.archived_at is None)

    @staticmethod
    def serving(places: list[_Place]) -> dict[int, list[_Place]]:
        """Community pk → the places that serve it."""
        found: dict[int, list[_Place]] = {}
        rows = Merchant.serves.through.objects.filter(
            merchant__in=[p.merchant for p in places]
        ).order_by("pk")
        by_pk = {p.merchant.pk: p for p in places}
        for row in rows.values_list("merchant_id", "area_id"):
            found.setdefault(row[1], []).append(by_pk[row[0]])
        return found

    def use(self, sub, entry: _Card, place: _Place, item: AgreementItem, day) -> CardUse:
        rng = self.rng
        before = item.usual_price
        if before >= Decimal("300"):  # bigger jobs vary with the job
            before = (before * Decimal(rng.choice(("0.6", "0.8", "1", "1.2", "1.5")))).quantize(
                Decimal("1")
            )
        at_till = place.till is not None and rng.random() < 0.7
        user = place.till if at_till else self.desk_user([entry.community_id, sub.pk])
        voided = rng.random() < 0.02
        return CardUse(
            card=entry.card,
            merchant=place.merchant,
            item=item,
            used_on=day,
            value_before=before,
            value_after=item.price_after(before),
            channel=UseChannel.TILL if at_till else UseChannel.DESK,
            note=rng.choice(VOID_NOTES) if voided else "",
            recorded_by=user,
            submission_key=self.key(),
            archived_at=self.moment(day) if voided else None,
        )

    # ------------------------------------------------------------------ surveys

    def surveys(self, sub: Area, communities) -> None:
        rng, today = self.rng, self.today
        households = list(
            Household.objects.filter(community__in=communities, archived_at__isnull=True)
            .order_by("pk")
            .values_list("pk", "community_id")
        )
        if not households:
            return
        chosen = sorted(rng.sample(households, max(1, len(households) // 4)))
        heads: dict[int, int] = {}  # household → its head, else its first member
        for pk, household_id, relation in (
            Person.objects.filter(
                household_id__in=[h for h, _c in chosen],
                archived_at__isnull=True,
                status=PersonStatus.ACTIVE,
            )
            .order_by("household_id", "pk")
            .values_list("pk", "household_id", "relation")
        ):
            if relation == Relation.HEAD:
                heads[household_id] = pk
            else:
                heads.setdefault(household_id, pk)
        surveys, answers = [], []
        first = max(self.start, today - datetime.timedelta(days=700))
        for household_id, community_id in chosen:
            rounds = 2 if rng.random() < 0.15 else 1
            days = sorted(self.day_between(first, today) for _r in range(rounds))
            for day in days:
                survey = Survey(
                    household_id=household_id,
                    respondent_id=heads.get(household_id),
                    surveyed_on=day,
                    recorded_by=self.desk_user([community_id, sub.pk], liaisons=True),
                    submission_key=self.key(),
                )
                surveys.append(survey)
                answers.append(self.answers(survey))
        Survey.objects.bulk_create(surveys, batch_size=BATCH)
        rows = [
            SurveyAnswer(survey=survey, direction=direction, category=category, detail=detail)
            for survey, given in zip(surveys, answers, strict=True)
            for direction, category, detail in given
        ]
        SurveyAnswer.objects.bulk_create(rows, batch_size=BATCH)
        self.counts["surveys"] += len(surveys)

    def answers(self, survey) -> list[tuple[str, str, str]]:
        rng = self.rng
        found = []
        for direction, table, count in (
            (SurveyDirection.WANTS, WANTED, rng.choice((1, 1, 2, 2, 3))),
            (SurveyDirection.OFFERS, OFFERED, rng.choice((0, 0, 0, 1, 1, 2))),
        ):
            weights = [w for _c, w, _d in table]
            picked: dict[str, str] = {}
            while len(picked) < count:
                category, _w, details = rng.choices(table, weights)[0]
                picked.setdefault(category, rng.choice(details))
            found += [(direction, c, d) for c, d in picked.items()]
        return found
