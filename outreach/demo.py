"""Demo outreach for the 姑苏区 demo district: the liaison network's people and several years
of its work, after seeds 000 and 003 (network/demo.py builds the district, residents/demo.py
its register; this module runs after both).

- People: the liaison accounts, a committee secretary and 2–4 resident liaisons (linked to
  their person in the register) in every liaison group with positions 组长/副组长/联络员 and
  dates, a few former liaisons; a 片长 and a 片联络员 in every zone; each sub-district's
  leadership group (组长: the deputy party secretary in charge) and coordination group (its
  member units).
- Pairings of the five friendship levels, assistance and study-grant pairings; former
  liaisons' pairings handed over to a successor, one still waiting for its handover.
- ``years`` years of logs ending today: the four festival visits (元宵, 七一, 中秋, 国庆) to
  the district's minority households, 春节 visits to hardship households and 开斋节/古尔邦节
  visits to Muslim households; a hardship visit each quarter; pairing, care, new-arrival and
  condolence visits; follow-ups (some overdue) and assistance in yuan; a liaison meeting each
  quarter and a zone-head meeting twice a year in each sub-district, a study session twice a
  month in each liaison group, leadership-group meetings, symposiums, tea parties, publicity,
  celebrations, outings, exchanges and training; consultations of every channel, topic and
  status, with the days to resolve each kind of question takes.

Deterministic for a seed on a given day: one ``random.Random(seed)``, never the global random
or the clock (submission keys come from it too). Idempotent like the register: when the demo
district has outreach records, nothing is added. Festival visits need the festivals of
migration 0003 (matched by calendar and date, not by name); without them none are made.

Rows are written with ``bulk_create`` (many-to-many rows through their through models), which
skips ``save()`` and sends no signals — the copied community of visits and pairings and a
meeting's area are set here, and the compliance figures' version is bumped by hand — and
writes no history rows: like the register's demo, demo data has no past worth auditing, and
history rows would double the rows written.
"""

import datetime
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from network.models import Area, AreaLevel, LiaisonGroup, Post, Role
from outreach import compliance_cache
from outreach.festivals import festival_dates
from outreach.models import (
    Assistance,
    AssistanceKind,
    Channel,
    Consultation,
    ConsultationStatus,
    Festival,
    FollowUp,
    FollowUpStatus,
    GroupMembership,
    GroupPosition,
    Liaison,
    Meeting,
    MeetingKind,
    Pairing,
    PairingKind,
    Topic,
    Visit,
    VisitKind,
    WorkGroup,
    WorkGroupKind,
    WorkGroupMember,
    WorkGroupPosition,
    ZonePosition,
    ZonePost,
)
from residents.models import Household, HouseholdStatus, Person, PersonStatus, Relation

DISTRICT_CODE = "320508000000"
DEFAULT_YEARS = 3
BATCH = 2000
HAN = "01"
# The four festival visits of seed 000 (节庆四访), by calendar, month and day.
FOUR_FESTIVALS = {("lunar", 1, 15), ("gregorian", 7, 1), ("lunar", 8, 15), ("gregorian", 10, 1)}
SPRING_FESTIVAL = ("lunar", 1, 1)


def _words(text: str) -> list[str]:
    return text.split()


SURNAMES = "张王李陈周徐朱沈顾陆钱吴蒋孙许曹袁马金杨"
GIVEN = _words(
    "建华 志强 海燕 晓红 红梅 立新 卫东 丽华 国强 建军 秀英 美玲 文斌 雪梅 海波 晓明 静 敏 "
    "伟 军 芳 勇 丽 磊 燕 娟"
)
MOBILE_PREFIXES = _words("130 133 135 136 138 139 150 151 158 159 177 180 181 186 187 189")

# ---------------------------------------------------------------- what visits find

LEARNED = {
    VisitKind.FESTIVAL: [
        "送上节日慰问品，老人精神很好，感谢社区关心。",
        "一家人正在准备过节，孩子放假回家，家庭和睦。",
        "了解到家中老人血压偏高，已提醒按时服药。",
        "介绍了社区近期的民族团结活动，邀请全家参加。",
        "家庭经营的清真面馆生意稳定，对社区服务表示满意。",
        "宣传了少数民族相关优惠政策，发放政策宣传册。",
        "户主在外打工未归，妻子在家照顾老人和孩子。",
        "住房条件一般，家中整洁，生活基本稳定。",
    ],
    VisitKind.HARDSHIP: [
        "家庭收入主要依靠低保金，本季度生活基本有保障。",
        "户主腰伤未愈，暂时无法工作，家庭开支紧张。",
        "子女上学费用负担较重，已了解助学政策。",
        "老人独居，行动不便，日常由邻居帮忙买菜。",
        "家属患慢性病长期服药，医疗费用支出较大。",
        "低保年审材料已备齐，提醒按时提交。",
        "户主已找到临时工作，收入略有增加。",
        "冬季取暖设备老旧，存在安全隐患。",
    ],
    VisitKind.CARE: [
        "日常走访，家庭生活正常，无特殊情况。",
        "了解到孩子今年考上高中，全家很高兴。",
        "老人想参加社区老年大学书法班。",
        "户主对小区停车管理有意见，已记录并反映。",
        "邻里关系融洽，积极参加社区志愿服务。",
        "询问了居住证办理进度，已帮助查询。",
    ],
    VisitKind.PAIRING: [
        "结对走访，聊家常，了解近期工作和生活情况。",
        "结对对象身体状况良好，子女工作稳定。",
        "结对对象反映孩子就业困难，希望得到推荐。",
        "与结对对象一起参加了社区组织的联谊活动。",
        "了解到结对对象所在社团近期活动安排。",
        "结对对象对社区民族工作提出了建议。",
    ],
    VisitKind.NEW_ARRIVAL: [
        "新迁入家庭，介绍社区基本情况和办事流程。",
        "帮助登记家庭成员信息，告知居住证办理要求。",
        "介绍附近清真食品供应点和礼拜场所。",
        "了解到孩子需要转学，告知入学咨询渠道。",
    ],
    VisitKind.CONDOLENCE: [
        "家中老人去世，代表社区表示慰问，家属情绪稳定。",
        "帮助联系殡葬服务，尊重其民族习俗安排后事。",
        "告知丧葬补助申领手续。",
    ],
    VisitKind.OTHER: ["了解情况。"],
}
# (need raised, follow-up action, days to act)
NEEDS = [
    ("希望申请临时救助", "协助向街道民政科提交临时救助申请", 14),
    ("房屋漏水，希望协调维修", "联系物业和房管所上门查看维修", 10),
    ("孩子入学需要帮助", "联系学校了解入学手续并告知家长", 21),
    ("希望找一份稳定工作", "推荐参加街道就业招聘会并登记求职信息", 30),
    ("居住证即将到期", "协助预约派出所办理居住证签注", 7),
    ("希望办理残疾人证", "指导准备材料并陪同到区残联办理", 30),
    ("老人需要定期上门服务", "为老人申请居家养老上门服务", 21),
    ("希望了解医保报销政策", "联系社区卫生服务中心讲解医保报销流程", 10),
    ("燃气灶老化存在隐患", "联系燃气公司上门安全检查", 7),
    ("希望参加技能培训", "报名街道组织的职业技能培训班", 30),
]
OTHER_VISITORS = ["社区网格员", "社区民警", "街道统战委员", "社区党委书记", "志愿者", ""]

# ---------------------------------------------------------------- meetings

STUDY_TOPICS = [
    "学习习近平总书记关于加强和改进民族工作的重要思想",
    "铸牢中华民族共同体意识专题学习",
    "学习中央民族工作会议精神",
    "学习《江苏省少数民族权益保障条例》",
    "学习《宗教事务条例》",
    "学习《民族区域自治法》有关内容",
    "学习少数民族流动人口服务管理政策",
    "学习民族团结进步创建工作要求",
    "学习少数民族低保上浮政策和救助政策",
    "学习社区民族工作台账规范",
    "交流近期走访情况",
    "学习《中华人民共和国宪法》中民族平等条款",
]
STUDY_MINUTES = [
    "组长领学文件精神，联络员结合走访情况交流体会。",
    "集体学习后讨论如何做好少数民族居民服务工作。",
    "学习相关政策，并对近期困难家庭走访情况进行汇总。",
    "联络员逐一汇报联系户情况，组长布置下阶段工作。",
]
DECISIONS = [
    "各联络员本月内完成联系户走访并做好记录。",
    "对困难家庭情况进行梳理，报街道统筹救助。",
    "筹备节日慰问活动，慰问品由街道统一采购。",
    "加强流动人口信息登记，做到底数清、情况明。",
    "开展民族团结进步宣传月活动。",
    "按时报送季度工作台账。",
]
OUTING_PLACES = [
    "苏州革命博物馆",
    "沙家浜革命历史纪念馆",
    "新四军太湖游击队纪念馆",
    "苏州博物馆",
    "周庄古镇",
]
TEA_PARTY_TITLES = ["春节少数民族同胞茶话会", "开斋节茶话会", "迎新春民族团结茶话会"]
SYMPOSIUM_TITLES = [
    "少数民族代表人士座谈会",
    "少数民族流动人口服务管理座谈会",
    "清真食品管理座谈会",
    "少数民族经营户座谈会",
]
PUBLICITY_TITLES = [
    "民族团结进步宣传月广场宣传",
    "《宗教事务条例》宣传进社区",
    "民族政策法规知识竞赛",
    "铸牢中华民族共同体意识主题展板",
]
CELEBRATION_TITLES = ["中秋民族团结联欢会", "古尔邦节联谊活动", "“石榴籽”迎新春联欢", "火把节联欢"]
EXCHANGE_TITLES = ["少数民族联谊会分会交流活动", "社区民族团结结对共建交流会"]
TRAINING_TITLES = ["少数民族联络员业务培训", "民族工作台账规范培训", "民族宗教政策法规培训"]

# ---------------------------------------------------------------- consultations

CONSULTATIONS = {
    # topic: (questions, resolutions, referred to, days to resolve (low, high))
    Topic.POLICY: (
        [
            "咨询少数民族考生中考加分政策",
            "咨询少数民族低保户补贴上浮20%的标准",
            "咨询更改民族成份的条件和程序",
            "咨询少数民族流动人口可享受的服务",
        ],
        ["当场解答政策规定并提供文件依据。", "电话回复相关政策，并发送政策原文。"],
        ["区民族宗教事务局", "区教育局"],
        (0, 3),
    ),
    Topic.LEGAL: (
        ["因劳动合同纠纷咨询法律援助", "咨询房屋租赁合同纠纷如何维权", "咨询继承纠纷处理"],
        ["联系司法所安排律师免费咨询，已解答。", "指导申请法律援助，已受理。"],
        ["街道司法所", "区法律援助中心"],
        (5, 30),
    ),
    Topic.EMPLOYMENT: (
        ["失业后咨询再就业培训和岗位信息", "咨询灵活就业社保补贴", "咨询创业担保贷款"],
        ["推荐两个就业岗位，已成功入职。", "登记求职信息，参加技能培训后就业。"],
        ["街道劳动和社会保障所", "区人社局"],
        (5, 40),
    ),
    Topic.SCHOOLING: (
        ["孩子随迁入学，咨询积分入学材料", "咨询子女转学手续", "咨询少数民族学生助学金"],
        ["协助准备材料，孩子已顺利入学。", "联系学校落实转学事宜。"],
        ["区教育局", "片区学校"],
        (5, 45),
    ),
    Topic.HOUSING: (
        ["咨询公租房申请条件", "老旧小区房屋漏水，物业不予维修", "咨询危房改造补助"],
        ["协调物业完成维修。", "指导提交公租房申请，已进入轮候。"],
        ["区住建局", "街道房管所"],
        (10, 60),
    ),
    Topic.HALAL_FOOD: (
        ["反映附近清真餐馆标识不规范", "询问社区食堂能否提供清真餐", "咨询清真食品经营许可"],
        ["联系市场监管所核查，已整改。", "协调社区食堂设立清真窗口。"],
        ["市场监督管理所", "区民族宗教事务局"],
        (3, 20),
    ),
    Topic.DISPUTE: (
        ["与邻居因楼道堆物发生纠纷", "与房东因押金退还产生纠纷", "经营摊位与其他商户发生纠纷"],
        ["社区调解委员会调解，双方达成协议。", "联络员上门沟通，矛盾已化解。"],
        ["街道人民调解委员会", "派出所"],
        (2, 20),
    ),
    Topic.ASSISTANCE: (
        ["家庭突发困难，申请临时救助", "咨询大病救助申请", "申请困难家庭节日补助"],
        ["已发放临时救助金。", "协助提交大病救助申请，已获批。"],
        ["街道民政科", "区民政局"],
        (3, 25),
    ),
    Topic.PAPERS: (
        ["居住证到期续签咨询", "咨询户口迁入苏州所需材料", "咨询身份证补办"],
        ["告知所需材料，已预约办理。", "陪同到派出所办理完毕。"],
        ["派出所", "区政务服务中心"],
        (1, 15),
    ),
    Topic.OTHER: (
        ["建议社区开展民族团结主题活动", "反映小区路灯损坏", "希望社区提供礼拜时间的活动安排"],
        ["已采纳建议，纳入社区活动计划。", "已转物业处理。"],
        ["物业公司", "街道城管中队"],
        (1, 14),
    ),
}
CHANNEL_WEIGHTS = {
    Channel.WALK_IN: 34,
    Channel.HOTLINE: 20,
    Channel.WINDOW: 30,
    Channel.ONLINE: 11,
    Channel.REFERRAL: 5,
}
TOPIC_WEIGHTS = {
    Topic.POLICY: 18,
    Topic.LEGAL: 8,
    Topic.EMPLOYMENT: 12,
    Topic.SCHOOLING: 10,
    Topic.HOUSING: 9,
    Topic.HALAL_FOOD: 7,
    Topic.DISPUTE: 8,
    Topic.ASSISTANCE: 12,
    Topic.PAPERS: 11,
    Topic.OTHER: 5,
}
VISITOR_KINDS = [
    "兰州拉面馆店主",
    "来苏务工人员",
    "新疆特色餐厅经营者",
    "外地来苏学生家长",
    "快递员",
    "个体经营户",
]

# ---------------------------------------------------------------- the sub-district's groups

LEADERSHIP = [
    (WorkGroupPosition.HEAD, "街道党工委副书记（分管统战）", "党工委"),
    (WorkGroupPosition.DEPUTY, "街道办事处副主任", "办事处"),
    (WorkGroupPosition.DEPUTY, "街道统战委员", "党工委"),
]
COORDINATION_UNITS = [
    ("派出所", "副所长"),
    ("司法所", "所长"),
    ("劳动和社会保障所", "所长"),
    ("城管中队", "中队长"),
    ("市场监督管理所", "副所长"),
    ("社区卫生服务中心", "副主任"),
    ("民政科", "科长"),
]


@dataclass
class _Home:
    pk: int
    community_id: int
    hardship: bool
    poor: bool  # dibao or low income
    frail: bool  # elderly alone, disabled or seriously ill
    muslim: bool
    eth_codes: set
    moved_in_on: datetime.date | None
    moved_out_on: datetime.date | None
    members: list = field(default_factory=list)

    def here_on(self, day: datetime.date) -> bool:
        return (self.moved_in_on is None or self.moved_in_on <= day) and (
            self.moved_out_on is None or day <= self.moved_out_on
        )


@dataclass
class _Seat:
    """A liaison's membership of a group, kept here to pick who attends and visits."""

    liaison: Liaison
    position: str
    start: datetime.date
    end: datetime.date | None = None

    def on(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def build(*, seed: int, stdout, years=DEFAULT_YEARS, today=None, **_options):
    """Build the demo district's outreach unless it has some; return no logins.

    ``years`` years of logs end ``today``; ``years=0``: no outreach at all (the district and
    its register alone)."""
    years = DEFAULT_YEARS if years is None else int(years)
    if years > 0:
        _build(seed=seed, stdout=stdout, years=years, today=today)
    return []


def build_people(*, seed: int, stdout, today=None) -> dict | None:
    """The network's people, groups and pairings without logs (the outreach benchmark writes
    its own logs); the counts made, or None when there was nothing to do."""
    return _build(seed=seed, stdout=stdout, years=0, today=today)


def _build(*, seed: int, stdout, years: int, today) -> dict | None:
    district = Area.objects.filter(code=DISTRICT_CODE).first()
    if district is None:
        return None
    inside = district.path
    if (
        Liaison.objects.filter(community__path__startswith=inside).exists()
        or Visit.objects.filter(community__path__startswith=inside).exists()
        or Meeting.objects.filter(area__path__startswith=inside).exists()
        or Consultation.objects.filter(community__path__startswith=inside).exists()
    ):
        stdout.write("The demo district already has outreach records; keeping them.")
        return None
    with transaction.atomic():
        builder = _Builder(random.Random(seed), today or timezone.localdate(), years, district)
        counts = builder.build()
        # bulk_create sends no signals: tell the compliance cache its figures are stale
        compliance_cache.bump()
    stdout.write(
        "Outreach: {liaisons} liaisons, {pairings} pairings; {years} years of logs: {visits} "
        "visits ({follow_ups} follow-ups, {assistance} assistance), {meetings} meetings, "
        "{consultations} consultations.".format(years=years, **counts)
    )
    return counts


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
        by_level = {level: [a for a in areas if a.level == level] for level in AreaLevel.values}
        self.subdistricts = by_level[AreaLevel.SUBDISTRICT]
        self.zones = sorted(by_level[AreaLevel.ZONE], key=lambda a: a.path)
        self.communities = by_level[AreaLevel.COMMUNITY]
        self.area = {a.pk: a for a in areas}
        subs = {a.pk for a in self.subdistricts}
        self.sub_of = {
            c.pk: self.area[next(i for i in c.ancestor_ids() if i in subs)]
            for c in self.communities
            if any(i in subs for i in c.ancestor_ids())
        }
        self.groups = list(
            LiaisonGroup.objects.filter(community__in=self.communities, is_active=True)
            .select_related("community")
            .order_by("community__code", "name", "pk")
        )
        self.group_of = {}
        for group in self.groups:
            self.group_of.setdefault(group.community_id, group)
        self._staff()
        self._register()
        self.festivals = list(
            Festival.objects.filter(is_active=True).prefetch_related("ethnicities").order_by("pk")
        )

    # ------------------------------------------------------------------ what exists

    def _staff(self):
        self.district_users, self.sub_users, self.community_users, self.group_users = (
            [],
            {},
            {},
            {},
        )
        posts = (
            Post.objects.current(self.today)
            .filter(area__path__startswith=self.district.path)
            .select_related("user")
            .order_by("pk")
        )
        for post in posts:
            if post.role == Role.DISTRICT:
                self.district_users.append(post.user)
            elif post.role == Role.SUBDISTRICT:
                self.sub_users.setdefault(post.area_id, []).append(post.user)
            elif post.role == Role.COMMUNITY:
                self.community_users.setdefault(post.area_id, []).append(post.user)
            elif post.role == Role.LIAISON and post.liaison_group_id:
                self.group_users.setdefault(post.liaison_group_id, []).append(post.user)

    def _register(self):
        inside = self.district.path
        homes = {}
        for row in (
            Household.objects.filter(community__path__startswith=inside, archived_at__isnull=True)
            .exclude(status=HouseholdStatus.CLOSED)
            .values(
                "pk",
                "community_id",
                "is_dibao",
                "is_low_income",
                "has_disability",
                "is_elderly_alone",
                "has_serious_illness",
                "other_hardship",
                "moved_in_on",
                "moved_out_on",
            )
            .order_by("pk")
        ):
            frail = row["is_elderly_alone"] or row["has_disability"] or row["has_serious_illness"]
            poor = row["is_dibao"] or row["is_low_income"]
            homes[row["pk"]] = _Home(
                pk=row["pk"],
                community_id=row["community_id"],
                hardship=poor or frail or bool(row["other_hardship"]),
                poor=poor,
                frail=frail,
                muslim=False,
                eth_codes=set(),
                moved_in_on=row["moved_in_on"],
                moved_out_on=row["moved_out_on"],
            )
        self.persons = []
        for person in (
            Person.objects.filter(household_id__in=homes, archived_at__isnull=True)
            .values(
                "pk",
                "household_id",
                "community_id",
                "name",
                "mobile",
                "workplace",
                "birth_date",
                "relation",
                "status",
                "status_changed_on",
                "is_key_person",
                "is_volunteer",
                "is_association_member",
                "ethnicity__code",
            )
            .order_by("pk")
        ):
            person["age"] = self.today.year - person["birth_date"].year
            homes[person["household_id"]].members.append(person)
            homes[person["household_id"]].eth_codes.add(person["ethnicity__code"])
            self.persons.append(person)
        self.person = {p["pk"]: p for p in self.persons}
        self.homes = list(homes.values())
        self.homes_in = {}
        for home in self.homes:
            self.homes_in.setdefault(home.community_id, []).append(home)
        self.home = homes

    # ------------------------------------------------------------------ small pieces

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def mobile(self) -> str:
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"

    def key(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def at(self, day: datetime.date, hour: int | None = None) -> datetime.datetime:
        """A moment of ``day``; today's records get midnight, which has passed whenever the
        demo is built (a later hour might not have, and the clock would break determinism)."""
        hour = self.rng.randint(9, 17) if hour is None else hour
        minute = self.rng.choice((0, 10, 15, 20, 30, 40, 45, 50))
        if day >= self.today:
            day, hour, minute = self.today, 0, 0
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))

    def some(self, items: list, count: int) -> list:
        return self.rng.sample(items, min(len(items), count))

    def day_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        return first + datetime.timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def officials(self, community_id: int) -> list:
        """Who of the staff goes to a community's households: its own staff, else the
        sub-district's, else the district bureau's."""
        sub = self.sub_of.get(community_id)
        return (
            self.community_users.get(community_id)
            or (self.sub_users.get(sub.pk) if sub else None)
            or self.district_users
        )

    def seats_on(self, group, day) -> list[_Seat]:
        if group is None:
            return []
        return [s for s in self.seats.get(group.pk, []) if s.on(day)]

    def periods(self, months: int):
        """(first, last) of each period of ``months`` months overlapping the window,
        clipped to it."""
        year, month = self.start.year, 1 + (self.start.month - 1) // months * months
        while datetime.date(year, month, 1) <= self.today:
            first = datetime.date(year, month, 1)
            nxt_year, nxt_month = (year + 1, 1) if month + months > 12 else (year, month + months)
            last = datetime.date(nxt_year, nxt_month, 1) - datetime.timedelta(days=1)
            yield max(first, self.start), min(last, self.today), first, last
            year, month = nxt_year, nxt_month

    # ------------------------------------------------------------------ the whole build

    def build(self) -> dict:
        self.build_liaisons()
        self.build_zone_posts()
        self.build_work_groups()
        self.build_pairings()
        self.visits, self.visit_users, self.visit_liaisons = [], [], []
        self.follow_ups, self.assistance, self.meetings = [], [], []
        if self.start > self.today:  # no years of logs
            return self.counts(0)
        self.festival_visits()
        self.hardship_visits()
        self.pairing_visits()
        self.care_visits()
        self.arrival_and_condolence_visits()
        self.save_visits()
        self.meetings, self.meeting_users, self.meeting_liaisons, self.meeting_persons = (
            [],
            [],
            [],
            [],
        )
        self.build_meetings()
        self.save_meetings()
        return self.counts(self.build_consultations())

    def counts(self, consultations: int) -> dict:
        return {
            "liaisons": len(self.liaisons),
            "pairings": len(self.pairings),
            "visits": len(self.visits),
            "follow_ups": len(self.follow_ups),
            "assistance": len(self.assistance),
            "meetings": len(self.meetings),
            "consultations": consultations,
        }

    # ------------------------------------------------------------------ the network's people

    def build_liaisons(self):
        rng, today = self.rng, self.today
        self.liaisons, self.seats, self.former = [], {}, []
        memberships = []
        taken = set()
        for group in self.groups:
            community = group.community
            founded = min(group.established_on or datetime.date(2018, 1, 1), today)
            seats = []
            for user in self.group_users.get(group.pk, []):
                liaison = Liaison(
                    community=community,
                    name=user.real_name or user.username,
                    user=user,
                    mobile=user.mobile,
                    note="联络组组长" if not seats else "",
                )
                position = GroupPosition.LEADER if not seats else GroupPosition.MEMBER
                seats.append(_Seat(liaison, position, founded))
            secretary = Liaison(
                community=community,
                name=self.name(),
                mobile=self.mobile(),
                unit=f"{community.name}居委会",
                is_committee_secretary=True,
                note="社区党委书记、居委会主任",
            )
            seats.append(
                _Seat(
                    secretary,
                    GroupPosition.DEPUTY if seats else GroupPosition.LEADER,
                    founded,
                )
            )
            residents = self.resident_liaisons(community.pk, taken, rng.randint(2, 4) + 1)
            for number, person in enumerate(residents):
                liaison = Liaison(
                    community=community,
                    name=person["name"],
                    person_id=person["pk"],
                    mobile=person["mobile"],
                    unit=person["workplace"],
                )
                started = self.day_between(founded, max(founded, today - datetime.timedelta(400)))
                has_deputy = any(s.position == GroupPosition.DEPUTY for s in seats)
                position = GroupPosition.MEMBER if has_deputy else GroupPosition.DEPUTY
                seat = _Seat(liaison, position, started)
                if number == len(residents) - 1:
                    # the extra one: a former liaison in about a third of the groups
                    if rng.random() >= 0.35:
                        continue
                    seat.position = GroupPosition.MEMBER
                    seat.end = today - datetime.timedelta(days=rng.randint(45, 500))
                    seat.start = min(seat.start, seat.end - datetime.timedelta(days=365))
                    liaison.note = rng.choice(["已迁出本社区", "因工作调动不再担任", "年事已高"])
                    self.former.append(seat)
                seats.append(seat)
            for seat in seats:
                seat.liaison.created_at = self.at(seat.start)
                if seat.end:
                    seat.liaison.archived_at = self.at(seat.end, 17)
                self.liaisons.append(seat.liaison)
            self.seats[group.pk] = seats
        Liaison.objects.bulk_create(self.liaisons, batch_size=BATCH)
        for group in self.groups:
            for seat in self.seats[group.pk]:
                memberships.append(
                    GroupMembership(
                        liaison=seat.liaison,
                        group=group,
                        position=seat.position,
                        start_date=seat.start,
                        end_date=seat.end,
                    )
                )
        GroupMembership.objects.bulk_create(memberships, batch_size=BATCH)

    def resident_liaisons(self, community_id: int, taken: set, count: int) -> list[dict]:
        """Adults of 25–70 of a minority, volunteers and association members first."""
        pool = [
            p
            for p in self.persons
            if p["community_id"] == community_id
            and p["status"] == PersonStatus.ACTIVE
            and 25 <= p["age"] <= 70
            and p["ethnicity__code"] != HAN
            and p["pk"] not in taken
            and self.home[p["household_id"]].moved_out_on is None
        ]
        keen = [p for p in pool if p["is_volunteer"] or p["is_association_member"]]
        others = [p for p in pool if not (p["is_volunteer"] or p["is_association_member"])]
        self.rng.shuffle(keen)
        self.rng.shuffle(others)
        chosen = (keen + others)[:count]
        taken.update(p["pk"] for p in chosen)
        return chosen

    def build_zone_posts(self):
        posts = []
        for zone in self.zones:
            groups = [g for g in self.groups if g.community.path.startswith(zone.path)]
            current = [
                [s for s in self.seats[g.pk] if s.end is None and s.liaison.person_id is None]
                + [s for s in self.seats[g.pk] if s.end is None and s.liaison.person_id]
                for g in groups
            ]
            current = [seats for seats in current if seats]
            if not current:
                continue
            head = current[0][0]
            residents = [s for seats in current[1:] or current for s in seats if s is not head]
            liaison = self.rng.choice(residents) if residents else None
            posts.append(
                ZonePost(
                    zone=zone,
                    liaison=head.liaison,
                    position=ZonePosition.HEAD,
                    start_date=head.start,
                )
            )
            if liaison is not None:
                posts.append(
                    ZonePost(
                        zone=zone,
                        liaison=liaison.liaison,
                        position=ZonePosition.LIAISON,
                        start_date=liaison.start,
                    )
                )
        ZonePost.objects.bulk_create(posts, batch_size=BATCH)
        self.zone_posts = posts

    def build_work_groups(self):
        rng = self.rng
        groups, members = [], []
        for sub in self.subdistricts:
            founded = datetime.date(rng.randint(2015, 2020), rng.choice((3, 4, 6, 9)), 1)
            founded = min(founded, self.today)
            office = sub.name.removesuffix("街道")
            leadership = WorkGroup(
                subdistrict=sub,
                kind=WorkGroupKind.LEADERSHIP,
                name=f"{sub.name}民族工作领导小组",
                established_on=founded,
            )
            coordination = WorkGroup(
                subdistrict=sub,
                kind=WorkGroupKind.COORDINATION,
                name=f"{sub.name}民族工作协调小组",
                established_on=founded,
            )
            groups += [leadership, coordination]
            head = self.name()
            for position, title, unit in LEADERSHIP:
                name = head if position == WorkGroupPosition.HEAD else self.name()
                members.append(
                    WorkGroupMember(
                        group=leadership,
                        name=name,
                        position=position,
                        title=title,
                        unit=f"{sub.name}{unit}",
                        start_date=founded,
                    )
                )
            for user in self.sub_users.get(sub.pk, []):
                members.append(
                    WorkGroupMember(
                        group=leadership,
                        name=user.real_name or user.username,
                        user=user,
                        title="民族宗教工作专干",
                        unit=f"{sub.name}办事处",
                        start_date=founded,
                    )
                )
            for group in self.groups:
                if self.sub_of.get(group.community_id) != sub:
                    continue
                secretary = next(
                    s for s in self.seats[group.pk] if s.liaison.is_committee_secretary
                )
                members.append(
                    WorkGroupMember(
                        group=leadership,
                        name=secretary.liaison.name,
                        title="社区党委书记",
                        unit=f"{group.community.name}居委会",
                        start_date=max(founded, secretary.start),
                    )
                )
            members.append(
                WorkGroupMember(
                    group=coordination,
                    name=head,
                    position=WorkGroupPosition.HEAD,
                    title=LEADERSHIP[0][1],
                    unit=f"{sub.name}党工委",
                    start_date=founded,
                )
            )
            for unit, title in COORDINATION_UNITS:
                where = f"{office}{unit}" if unit != "民政科" else f"{sub.name}办事处{unit}"
                members.append(
                    WorkGroupMember(
                        group=coordination,
                        name=self.name(),
                        position=WorkGroupPosition.MEMBER_UNIT,
                        title=title,
                        unit=where,
                        start_date=founded,
                    )
                )
        WorkGroup.objects.bulk_create(groups, batch_size=BATCH)
        for member in members:
            member.group_id = member.group.pk
        WorkGroupMember.objects.bulk_create(members, batch_size=BATCH)
        self.work_groups = groups

    # ------------------------------------------------------------------ pairings

    def pairing(
        self,
        home,
        kind,
        start,
        *,
        user=None,
        liaison=None,
        volunteer=None,
        person=None,
        visits_per_year=4,
        end=None,
        note="",
    ):
        if home.moved_out_on and (end is None or end > home.moved_out_on):
            end = home.moved_out_on
        if end is not None and end < start:
            return None
        pairing = Pairing(
            community_id=home.community_id,
            household_id=home.pk,
            person_id=person["pk"] if person else None,
            kind=kind,
            partner_user=user,
            partner_liaison=liaison,
            partner_person_id=volunteer["pk"] if volunteer else None,
            visits_per_year=visits_per_year,
            start_date=start,
            end_date=end,
            note=note,
            created_at=self.at(start),
        )
        self.pairings.append(pairing)
        return pairing

    def pairing_start(self, home, earliest=None) -> datetime.date:
        first = self.start - datetime.timedelta(days=730)
        if earliest is not None:
            first = max(first, earliest)
        if home.moved_in_on:
            first = max(first, home.moved_in_on)
        return self.day_between(
            min(first, self.today - datetime.timedelta(30)), self.today - datetime.timedelta(30)
        )

    def build_pairings(self):
        rng = self.rng
        self.pairings = []
        later = []  # successors, saved after the pairings they succeed
        waiting_done = False
        for sub in self.subdistricts:
            officials = self.sub_users.get(sub.pk) or self.district_users
            cadres = self.district_users or officials
            people = [p for p in self.persons if self.sub_of.get(p["community_id"]) == sub]
            alive = [
                p
                for p in people
                if p["status"] == PersonStatus.ACTIVE
                and self.home[p["household_id"]].here_on(self.today)
            ]
            for person in [p for p in alive if p["is_key_person"]][:3]:
                if officials:
                    home = self.home[person["household_id"]]
                    self.pairing(
                        home,
                        PairingKind.LEADER_KEY_PERSON,
                        self.pairing_start(home),
                        user=rng.choice(officials),
                        person=person,
                        visits_per_year=2,
                        note="街道领导联系重点人士",
                    )
            for person in [p for p in alive if p["is_association_member"]][:2]:
                if cadres:
                    home = self.home[person["household_id"]]
                    self.pairing(
                        home,
                        PairingKind.CADRE_ASSOCIATION,
                        self.pairing_start(home),
                        user=rng.choice(cadres),
                        person=person,
                        visits_per_year=2,
                        note="统战干部联系少数民族联谊会骨干",
                    )
        for group in self.groups:
            community_id = group.community_id
            homes = [h for h in self.homes_in.get(community_id, []) if h.moved_out_on is None]
            if not homes:
                continue
            frail_first = sorted(homes, key=lambda h: (not h.frail, not h.hardship, h.pk))
            seats = self.seats[group.pk]
            secretary = next(s for s in seats if s.liaison.is_committee_secretary)
            staff = self.community_users.get(community_id)
            paired = set()
            for home in frail_first[:2]:
                if staff:
                    self.pairing(
                        home,
                        PairingKind.COMMITTEE_RESIDENT,
                        self.pairing_start(home),
                        user=rng.choice(staff),
                    )
                else:
                    self.pairing(
                        home,
                        PairingKind.COMMITTEE_RESIDENT,
                        self.pairing_start(home, secretary.start),
                        liaison=secretary.liaison,
                    )
                paired.add(home.pk)
            for seat in seats:
                if seat.liaison.is_committee_secretary:
                    continue
                own = self.person.get(seat.liaison.person_id, {}).get("household_id")
                choices = [h for h in homes if h.pk not in paired and h.pk != own]
                for home in rng.sample(choices, min(len(choices), rng.randint(1, 2))):
                    start = self.pairing_start(home, seat.start)
                    pairing = self.pairing(
                        home,
                        PairingKind.LIAISON_RESIDENT,
                        start,
                        liaison=seat.liaison,
                        visits_per_year=6,
                        end=seat.end,
                    )
                    paired.add(home.pk)
                    if pairing is None or seat.end is None:
                        continue
                    # a former liaison's pairing: handed over, except one still waiting
                    successor = next(
                        (
                            s
                            for s in seats
                            if s.end is None and s is not seat and s.liaison.person_id
                        ),
                        None,
                    )
                    if successor is None or not waiting_done:
                        waiting_done = True  # the first stays with the former liaison
                        continue
                    handover = self.pairing(
                        home,
                        PairingKind.LIAISON_RESIDENT,
                        seat.end + datetime.timedelta(days=rng.randint(3, 20)),
                        liaison=successor.liaison,
                        visits_per_year=6,
                        note="原联络员离任后移交",
                    )
                    if handover is not None:
                        self.pairings.remove(handover)
                        later.append((handover, pairing))
            volunteers = [
                p
                for p in self.persons
                if p["community_id"] == community_id
                and p["is_volunteer"]
                and p["status"] == PersonStatus.ACTIVE
                and 18 <= p["age"] <= 70
            ]
            lonely = [h for h in frail_first if h.frail and h.pk not in paired]
            for volunteer, home in zip(volunteers[:2], lonely, strict=False):
                if home.pk == volunteer["household_id"]:
                    continue
                self.pairing(
                    home,
                    PairingKind.RESIDENT_RESIDENT,
                    self.pairing_start(home),
                    volunteer=volunteer,
                    visits_per_year=12,
                    note="邻里互助结对",
                )
                paired.add(home.pk)
            helpers = self.officials(community_id)
            for home in [h for h in homes if h.hardship]:
                if rng.random() >= 0.7:
                    continue
                roll = rng.random()
                current = [s for s in seats if s.end is None]
                if roll < 0.4 and helpers:
                    partner = {"user": rng.choice(helpers)}
                elif roll < 0.85 and current:
                    partner = {"liaison": rng.choice(current).liaison}
                elif volunteers and volunteers[0]["household_id"] != home.pk:
                    partner = {"volunteer": volunteers[0]}
                elif helpers:
                    partner = {"user": rng.choice(helpers)}
                else:
                    continue
                self.pairing(
                    home,
                    PairingKind.ASSISTANCE,
                    self.pairing_start(home),
                    visits_per_year=4,
                    **partner,
                )
            for home in homes:
                pupils = [
                    m
                    for m in home.members
                    if m["relation"] in (Relation.CHILD, Relation.GRANDCHILD)
                    and 6 <= m["age"] <= 18
                    and m["status"] == PersonStatus.ACTIVE
                ]
                if not pupils or not home.poor or rng.random() >= 0.8:
                    continue
                donors = self.district_users or helpers
                if not donors:
                    continue
                self.pairing(
                    home,
                    PairingKind.STUDY_GRANT,
                    self.pairing_start(home),
                    user=rng.choice(donors),
                    person=pupils[0],
                    visits_per_year=2,
                    note="助学结对，每学年资助学费",
                )
        Pairing.objects.bulk_create(self.pairings, batch_size=BATCH)
        for successor, predecessor in later:
            successor.succeeds = predecessor
        Pairing.objects.bulk_create([s for s, _p in later], batch_size=BATCH)
        self.pairings += [s for s, _p in later]
        self.pairings_of = {}
        for pairing in self.pairings:
            self.pairings_of.setdefault(pairing.household_id, []).append(pairing)

    # ------------------------------------------------------------------ visits

    def visit(
        self, home, day, kind, *, festival=None, pairing=None, officials=1, liaisons=1, needs=0.15
    ):
        rng = self.rng
        group = self.group_of.get(home.community_id)
        users = []
        staff = self.officials(home.community_id)
        if staff and rng.random() < officials:
            users = [rng.choice(staff)]
        seats = self.seats_on(group, day)
        going = rng.sample(seats, min(len(seats), liaisons)) if seats and liaisons else []
        if pairing is not None:
            if pairing.partner_user is not None and pairing.partner_user not in users:
                users.append(pairing.partner_user)
            if pairing.partner_liaison is not None and all(
                s.liaison is not pairing.partner_liaison for s in going
            ):
                going.append(_Seat(pairing.partner_liaison, "", day))
        other = ""
        if pairing is not None and pairing.partner_person_id:
            other = "志愿者" + self.person[pairing.partner_person_id]["name"]
        elif rng.random() < 0.2:
            other = rng.choice(OTHER_VISITORS)
        # a liaison with a login logs it; otherwise the office enters it from the paper log
        recorder = next((s.liaison.user for s in going if s.liaison.user), None) or (
            users[0] if users else rng.choice(staff) if staff else None
        )
        need = rng.choice(NEEDS) if rng.random() < needs else None
        visit = Visit(
            household_id=home.pk,
            community_id=home.community_id,
            liaison_group=group,
            pairing=pairing,
            visited_on=day,
            kind=kind,
            festival=festival,
            other_visitors=other,
            learned=rng.choice(LEARNED[kind]),
            needs=need[0] if need else "",
            created_by=recorder,
            submission_key=self.key(),
            created_at=self.at(day, rng.randint(16, 20)),
        )
        index = len(self.visits)
        self.visits.append(visit)
        self.visit_users += [(index, u.pk) for u in users]
        self.visit_liaisons += [(index, s.liaison) for s in going]
        if need:
            self.follow_up(index, day, need, users or staff)
        return index

    def follow_up(self, index, day, need, assignees):
        rng, today = self.rng, self.today
        due = day + datetime.timedelta(days=need[2])
        late = (today - due).days
        if due >= today:
            status = FollowUpStatus.DONE if rng.random() < 0.3 else FollowUpStatus.OPEN
        elif late < 30:
            status = rng.choices(
                [FollowUpStatus.DONE, FollowUpStatus.OPEN, FollowUpStatus.DROPPED], (6, 3, 1)
            )[0]
        else:
            status = rng.choices(
                [FollowUpStatus.DONE, FollowUpStatus.OPEN, FollowUpStatus.DROPPED], (90, 4, 6)
            )[0]
        done_on = None
        if status == FollowUpStatus.DONE:
            done_on = min(today, self.day_between(day, due + datetime.timedelta(days=10)))
        self.follow_ups.append(
            (
                index,
                FollowUp(
                    action=need[1],
                    due_on=due,
                    assignee=rng.choice(assignees) if assignees else None,
                    status=status,
                    done_on=done_on,
                    note="已办结"
                    if status == FollowUpStatus.DONE
                    else ("对方表示暂不需要" if status == FollowUpStatus.DROPPED else ""),
                ),
            )
        )

    def give(self, index, kind, description, low, high, step=50):
        value = Decimal(self.rng.randrange(low, high + 1, step))
        self.assistance.append((index, Assistance(kind=kind, description=description, value=value)))

    def festival_visits(self):
        """The four festival visits to every minority household (seed 000: 节庆四访), 春节
        visits to hardship households, and each group's own festivals (开斋节, 古尔邦节 ...)
        to the households of the groups that keep them."""
        for festival in self.festivals:
            rule = (festival.calendar, festival.month, festival.day)
            codes = {e.code for e in festival.ethnicities.all()}
            four, spring = rule in FOUR_FESTIVALS, rule == SPRING_FESTIVAL
            own = bool(codes) and festival.calendar == "islamic"
            if not (four or spring or own):
                continue
            for year in range(self.start.year, self.today.year + 2):
                for on in festival_dates(festival, year):
                    self.visits_for_festival(festival, on, codes, four, spring)

    def visits_for_festival(self, festival, on, codes, four, spring):
        rng = self.rng
        first = on - datetime.timedelta(days=12)
        last = min(on + datetime.timedelta(days=2), self.today)
        if last < self.start or first > self.today:
            return
        for community in self.communities:
            coverage = rng.uniform(0.82, 0.98) if four else rng.uniform(0.5, 0.8)
            for home in self.homes_in.get(community.pk, []):
                if spring and not home.hardship:
                    continue
                if codes and not (home.eth_codes & codes):
                    continue
                if four and home.eth_codes <= {HAN}:
                    continue
                day = self.day_between(first, last)
                if day < self.start or not home.here_on(day) or rng.random() >= coverage:
                    continue
                index = self.visit(
                    home,
                    day,
                    VisitKind.FESTIVAL,
                    festival=festival,
                    officials=0.5,
                    liaisons=rng.randint(1, 2),
                    needs=0.05,
                )
                if home.hardship and (spring or rng.random() < 0.6):
                    gift = {
                        (1, 15): "汤圆、慰问品",
                        (8, 15): "月饼、食用油",
                        (1, 1): "米、油、慰问金",
                    }.get((festival.month, festival.day), "节日慰问品")
                    self.give(index, AssistanceKind.GOODS, gift, 100, 300)
                    if spring and home.poor:
                        self.give(index, AssistanceKind.CASH, "春节慰问金", 300, 1000, 100)

    def hardship_visits(self):
        """Every hardship household each quarter (seed 000); the current quarter is under
        way, so only part of it is done."""
        rng = self.rng
        for first, last, q_first, q_last in self.periods(3):
            elapsed = ((last - q_first).days + 1) / ((q_last - q_first).days + 1)
            coverage = 0.93 if last == q_last else min(0.93, elapsed * 1.1)
            for home in self.homes:
                if not home.hardship or rng.random() >= coverage:
                    continue
                day = self.day_between(first, last)
                if not home.here_on(day):
                    continue
                pairing = next(
                    (
                        p
                        for p in self.pairings_of.get(home.pk, [])
                        if p.kind == PairingKind.ASSISTANCE and p.is_current_on(day)
                    ),
                    None,
                )
                index = self.visit(
                    home, day, VisitKind.HARDSHIP, pairing=pairing, officials=0.8, needs=0.3
                )
                roll = rng.random()
                if roll < 0.2:
                    self.give(index, AssistanceKind.CASH, "困难补助金", 300, 1000, 100)
                elif roll < 0.35:
                    self.give(
                        index,
                        AssistanceKind.GOODS,
                        rng.choice(["米、面、油", "冬衣、棉被", "牛奶、鸡蛋", "清真食品礼包"]),
                        150,
                        400,
                    )
                elif roll < 0.45:
                    self.give(
                        index,
                        AssistanceKind.SERVICE,
                        rng.choice(["上门理发", "家政保洁", "助浴服务", "家电维修"]),
                        50,
                        200,
                        10,
                    )

    def pairing_visits(self):
        """Visits under the friendship and study-grant pairings, as often as each should
        meet (assistance pairings meet on the hardship visits)."""
        rng = self.rng
        for pairing in self.pairings:
            if pairing.kind == PairingKind.ASSISTANCE or not pairing.visits_per_year:
                continue
            home = self.home[pairing.household_id]
            first = max(pairing.start_date, self.start)
            last = min(pairing.end_date or self.today, self.today)
            step = 365 / pairing.visits_per_year
            day = first + datetime.timedelta(days=rng.uniform(0, step))
            while day <= last:
                if rng.random() < 0.85 and home.here_on(day):
                    index = self.visit(
                        home,
                        day,
                        VisitKind.PAIRING,
                        pairing=pairing,
                        officials=0,
                        liaisons=0,
                        needs=0.12,
                    )
                    if pairing.kind == PairingKind.STUDY_GRANT and day.month in (8, 9):
                        self.give(index, AssistanceKind.CASH, "助学金", 1000, 3000, 500)
                day += datetime.timedelta(days=step * rng.uniform(0.8, 1.2))

    def care_visits(self):
        rng = self.rng
        span = (self.today - self.start).days + 1
        if span <= 0:
            return
        for home in self.homes:
            rate = (0.6 if home.frail else 0.3) * span / 365
            for _ in range(int(rate) + (rng.random() < rate - int(rate))):
                day = self.day_between(self.start, self.today)
                if home.here_on(day):
                    self.visit(home, day, VisitKind.CARE, officials=0.3, needs=0.15)

    def arrival_and_condolence_visits(self):
        rng = self.rng
        for home in self.homes:
            if home.moved_in_on and self.start <= home.moved_in_on <= self.today:
                day = home.moved_in_on + datetime.timedelta(days=rng.randint(3, 30))
                if day <= self.today and rng.random() < 0.8:
                    self.visit(home, day, VisitKind.NEW_ARRIVAL, needs=0.2)
            for member in home.members:
                died = member["status_changed_on"]
                if member["status"] != PersonStatus.DECEASED or not died:
                    continue
                day = died + datetime.timedelta(days=rng.randint(1, 7))
                if self.start <= day <= self.today and home.here_on(died):
                    index = self.visit(home, day, VisitKind.CONDOLENCE, liaisons=2, needs=0.1)
                    self.give(index, AssistanceKind.CASH, "慰问金", 300, 800, 100)

    def save_visits(self):
        order = sorted(range(len(self.visits)), key=lambda i: (self.visits[i].visited_on, i))
        place = {old: new for new, old in enumerate(order)}
        self.visits = [self.visits[i] for i in order]
        Visit.objects.bulk_create(self.visits, batch_size=BATCH)
        users = Visit.visitors.through
        users.objects.bulk_create(
            [users(visit_id=self.visits[place[i]].pk, user_id=u) for i, u in self.visit_users],
            batch_size=BATCH,
        )
        liaisons = Visit.visiting_liaisons.through
        liaisons.objects.bulk_create(
            [
                liaisons(visit_id=self.visits[place[i]].pk, liaison_id=liaison.pk)
                for i, liaison in self.visit_liaisons
            ],
            batch_size=BATCH,
            ignore_conflicts=False,
        )
        for i, follow_up in self.follow_ups:
            follow_up.visit = self.visits[place[i]]
        FollowUp.objects.bulk_create([f for _i, f in self.follow_ups], batch_size=BATCH)
        for i, help_given in self.assistance:
            help_given.visit = self.visits[place[i]]
        Assistance.objects.bulk_create([a for _i, a in self.assistance], batch_size=BATCH)

    # ------------------------------------------------------------------ meetings

    def meeting(
        self,
        area,
        kind,
        day,
        title,
        *,
        group=None,
        seats=(),
        users=(),
        persons=(),
        others=0,
        venue="",
        minutes="",
        decisions="",
        cost=0,
    ):
        if day > self.today or day < self.start:
            return
        recorder = next((s.liaison.user for s in seats if s.liaison.user), None) or (
            users[0] if users else None
        )
        index = len(self.meetings)
        self.meetings.append(
            Meeting(
                kind=kind,
                title=title,
                area=area,
                liaison_group=group,
                held_on=day,
                venue=venue,
                other_attendees=others,
                minutes=minutes,
                decisions=decisions,
                cost=Decimal(cost),
                created_by=recorder,
                submission_key=self.key(),
                created_at=self.at(day, 18),
            )
        )
        self.meeting_users += [(index, u.pk) for u in users]
        self.meeting_liaisons += [(index, s.liaison.pk) for s in seats]
        self.meeting_persons += [(index, p["pk"]) for p in persons]

    def build_meetings(self):
        rng = self.rng
        self.study_sessions()
        for sub in self.subdistricts:
            groups = [g for g in self.groups if self.sub_of.get(g.community_id) == sub]
            staff = self.sub_users.get(sub.pk, [])
            hall = f"{sub.name}办事处会议室"
            people = [
                p
                for p in self.persons
                if self.sub_of.get(p["community_id"]) == sub
                and p["status"] == PersonStatus.ACTIVE
                and p["age"] >= 18
            ]
            notable = [p for p in people if p["is_key_person"] or p["is_association_member"]]
            for first, last, _qf, _ql in self.periods(3):
                day = self.day_between(first, last)
                seats = [s for g in groups for s in self.seats_on(g, day) if rng.random() < 0.85]
                self.meeting(
                    sub,
                    MeetingKind.LIAISON,
                    day,
                    f"{day.year}年第{(day.month + 2) // 3}季度联络员会议",
                    seats=seats,
                    users=staff,
                    others=rng.randint(1, 4),
                    venue=hall,
                    minutes=rng.choice(STUDY_MINUTES),
                    decisions=rng.choice(DECISIONS),
                )
            for first, last, _hf, _hl in self.periods(6):
                day = self.day_between(first, last)
                heads = [
                    s
                    for g in groups
                    for s in self.seats_on(g, day)
                    if s.position == GroupPosition.LEADER
                ]
                heads += [
                    _Seat(p.liaison, "", day)
                    for p in self.zone_posts
                    if p.zone.path.startswith(sub.path)
                    and all(s.liaison is not p.liaison for s in heads)
                ]
                half = "上半年" if day.month <= 6 else "下半年"
                self.meeting(
                    sub,
                    MeetingKind.ZONE_HEAD,
                    day,
                    f"{day.year}年{half}联络片组长会议",
                    seats=heads,
                    users=staff,
                    others=rng.randint(0, 2),
                    venue=hall,
                    minutes="各片长汇报片区民族工作情况，交流经验。",
                    decisions=rng.choice(DECISIONS),
                )
                day = self.day_between(first, last)
                self.meeting(
                    sub,
                    MeetingKind.LEADERSHIP,
                    day,
                    f"{day.year}年{half}民族工作领导小组会议",
                    users=staff,
                    others=rng.randint(5, 9),
                    venue=hall,
                    minutes="听取上阶段民族工作情况汇报，研究部署下阶段工作。",
                    decisions=rng.choice(DECISIONS),
                )
            for year in range(self.start.year, self.today.year + 1):
                guests = self.some(notable, 6) or self.some(people, 6)
                self.meeting(
                    sub,
                    MeetingKind.TEA_PARTY,
                    datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randint(10, 40)),
                    rng.choice(TEA_PARTY_TITLES),
                    users=staff,
                    persons=guests,
                    others=rng.randint(10, 30),
                    venue=hall,
                    minutes="欢聚一堂共话发展，听取少数民族同胞意见建议。",
                    cost=rng.randrange(800, 3001, 100),
                )
                self.meeting(
                    sub,
                    MeetingKind.SYMPOSIUM,
                    datetime.date(year, 5, 1) + datetime.timedelta(days=rng.randint(0, 60)),
                    rng.choice(SYMPOSIUM_TITLES),
                    users=staff,
                    persons=self.some(people, 8),
                    others=rng.randint(3, 10),
                    venue=hall,
                    minutes="与会代表围绕社区服务、就业、子女教育等发言。",
                    decisions=rng.choice(DECISIONS),
                    cost=rng.randrange(0, 501, 100),
                )
                day = datetime.date(year, 9, 1) + datetime.timedelta(days=rng.randint(0, 40))
                self.meeting(
                    sub,
                    MeetingKind.FESTIVAL,
                    day,
                    rng.choice(CELEBRATION_TITLES),
                    users=staff,
                    persons=self.some(people, 12),
                    others=rng.randint(30, 120),
                    venue=f"{sub.name}文体中心",
                    cost=rng.randrange(2000, 8001, 500),
                    minutes="少数民族居民表演民族歌舞，共庆佳节。",
                )
                day = datetime.date(year, 4, 1) + datetime.timedelta(days=rng.randint(0, 180))
                place = rng.choice(OUTING_PLACES)
                self.meeting(
                    sub,
                    MeetingKind.OUTING,
                    day,
                    f"组织少数民族居民参观{place}",
                    seats=[s for g in groups for s in self.seats_on(g, day)][:6],
                    users=staff[:1],
                    persons=self.some(people, 10),
                    others=rng.randint(5, 20),
                    venue=place,
                    cost=rng.randrange(1000, 5001, 500),
                    minutes="参观学习，增进了解，增强凝聚力。",
                )
                day = datetime.date(year, 6, 1) + datetime.timedelta(days=rng.randint(0, 150))
                self.meeting(
                    sub,
                    MeetingKind.EXCHANGE,
                    day,
                    rng.choice(EXCHANGE_TITLES),
                    users=staff,
                    persons=self.some(people, 6),
                    others=rng.randint(10, 40),
                    venue=hall,
                    cost=rng.randrange(500, 2001, 100),
                    minutes="各族居民交流交往交融，结对共建。",
                )
        for group in self.groups:
            community = group.community
            for year in range(self.start.year, self.today.year + 1):
                for month in (rng.choice((3, 4, 5)), 9):
                    day = datetime.date(year, month, rng.randint(1, 28))
                    self.meeting(
                        community,
                        MeetingKind.PUBLICITY,
                        day,
                        rng.choice(PUBLICITY_TITLES),
                        group=group,
                        seats=self.seats_on(group, day),
                        others=rng.randint(20, 80),
                        venue=f"{community.name}广场",
                        minutes="发放宣传资料，现场解答政策咨询。",
                        cost=rng.randrange(200, 1501, 100),
                    )
        for year in range(self.start.year, self.today.year + 1):
            day = datetime.date(year, 3, 1) + datetime.timedelta(days=rng.randint(0, 200))
            seats = [s for g in self.groups for s in self.seats_on(g, day) if rng.random() < 0.6]
            self.meeting(
                self.district,
                MeetingKind.TRAINING,
                day,
                rng.choice(TRAINING_TITLES),
                seats=seats,
                users=self.district_users,
                others=rng.randint(5, 15),
                venue="姑苏区民族宗教事务局培训室",
                cost=rng.randrange(1000, 4001, 500),
                minutes="邀请专家讲授民族宗教政策法规和台账规范。",
            )

    def study_sessions(self):
        """Twice a month in every liaison group (seed 003: 每月二次的联络员学习活动)."""
        rng = self.rng
        for group in self.groups:
            community = group.community
            venue = rng.choice([f"{community.name}民族之家", f"{community.name}会议室"])
            for first, _last, _mf, _ml in self.periods(1):
                for half_first, half_last in ((1, 14), (15, 28)):
                    if rng.random() >= 0.93:
                        continue
                    day = datetime.date(first.year, first.month, rng.randint(half_first, half_last))
                    seats = [s for s in self.seats_on(group, day) if rng.random() < 0.9]
                    self.meeting(
                        community,
                        MeetingKind.STUDY,
                        day,
                        rng.choice(STUDY_TOPICS),
                        group=group,
                        seats=seats,
                        others=rng.randint(0, 3),
                        venue=venue,
                        minutes=rng.choice(STUDY_MINUTES),
                    )

    def save_meetings(self):
        order = sorted(range(len(self.meetings)), key=lambda i: (self.meetings[i].held_on, i))
        place = {old: new for new, old in enumerate(order)}
        self.meetings = [self.meetings[i] for i in order]
        Meeting.objects.bulk_create(self.meetings, batch_size=BATCH)
        for pairs, through, column in (
            (self.meeting_users, Meeting.attending_users.through, "user_id"),
            (self.meeting_liaisons, Meeting.attending_liaisons.through, "liaison_id"),
            (self.meeting_persons, Meeting.attending_persons.through, "person_id"),
        ):
            rows = {(self.meetings[place[i]].pk, pk) for i, pk in pairs}
            through.objects.bulk_create(
                [through(meeting_id=m, **{column: pk}) for m, pk in sorted(rows)],
                batch_size=BATCH,
            )

    # ------------------------------------------------------------------ consultations

    def build_consultations(self) -> int:
        rng, today = self.rng, self.today
        rows = []
        channels, channel_weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
        topics, topic_weights = list(TOPIC_WEIGHTS), list(TOPIC_WEIGHTS.values())
        for community in self.communities:
            sub = self.sub_of.get(community.pk)
            adults = [
                p
                for p in self.persons
                if p["community_id"] == community.pk
                and p["status"] == PersonStatus.ACTIVE
                and p["age"] >= 18
            ]
            for first, last, _mf, _ml in self.periods(1):
                for _ in range(rng.randint(1, 4)):
                    yesterday = self.today - datetime.timedelta(days=1)
                    received = self.day_between(first, max(first, min(last, yesterday)))
                    channel = rng.choices(channels, channel_weights)[0]
                    topic = rng.choices(topics, topic_weights)[0]
                    questions, answers, offices, (low, high) = CONSULTATIONS[topic]
                    person = rng.choice(adults) if adults and rng.random() < 0.65 else None
                    visitor, phone = "", ""
                    if person is None:
                        visitor = (
                            f"{rng.choice('马白杨李王张沙哈')}{rng.choice(['先生', '女士'])}"
                            f"（{rng.choice(VISITOR_KINDS)}）"
                        )
                        phone = self.mobile() if rng.random() < 0.8 else ""
                    elif channel == Channel.HOTLINE:
                        phone = person["mobile"]
                    area = community
                    if channel == Channel.WINDOW and sub is not None and rng.random() < 0.5:
                        area = sub  # the reception window of the street office
                    handlers = (
                        self.community_users.get(community.pk) if area == community else None
                    ) or self.officials(community.pk)
                    hour = (
                        rng.randint(8, 21)
                        if channel in (Channel.HOTLINE, Channel.ONLINE)
                        else rng.randint(9, 16)
                    )
                    days = round(rng.triangular(low, high, low + (high - low) / 4))
                    closes = received + datetime.timedelta(days=days)
                    roll = rng.random()
                    if closes > today:
                        status = (
                            ConsultationStatus.OPEN
                            if roll < 0.4
                            else ConsultationStatus.IN_PROGRESS
                        )
                    elif roll < 0.78:
                        status = ConsultationStatus.RESOLVED
                    elif roll < 0.93:
                        status = ConsultationStatus.REFERRED
                    elif (today - received).days < 90:
                        status = ConsultationStatus.IN_PROGRESS
                    else:
                        status = ConsultationStatus.RESOLVED
                    closed = status in (ConsultationStatus.RESOLVED, ConsultationStatus.REFERRED)
                    referred = rng.choice(offices) if status == ConsultationStatus.REFERRED else ""
                    resolution = ""
                    if status == ConsultationStatus.RESOLVED:
                        resolution = rng.choice(answers)
                    elif status == ConsultationStatus.REFERRED:
                        resolution = f"已转{referred}办理，并跟踪反馈结果。"
                    elif status == ConsultationStatus.IN_PROGRESS:
                        resolution = "正在协调相关部门办理。"
                    rows.append(
                        Consultation(
                            community=area,
                            person_id=person["pk"] if person else None,
                            visitor=visitor,
                            visitor_phone=phone,
                            channel=channel,
                            topic=topic,
                            received_at=self.at(received, hour),
                            summary=rng.choice(questions),
                            handler=rng.choice(handlers) if handlers else None,
                            status=status,
                            referred_to=referred,
                            resolution=resolution,
                            closed_on=closes if closed else None,
                            submission_key=self.key(),
                            created_at=self.at(received, hour),
                        )
                    )
        rows.sort(key=lambda c: c.received_at)
        Consultation.objects.bulk_create(rows, batch_size=BATCH)
        return len(rows)
