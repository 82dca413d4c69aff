"""Demo register for the 姑苏区 demo district (network/demo.py builds the district first).

Households and persons in realistic proportions after seed 000: Suzhou's minority residents
belong to 47 groups, the Hui by far the largest, then Manchu, Zhuang, Miao, Tujia, Mongol,
Uyghur …; mixed households have Han spouses; a few per cent are dibao households; floating
households hold residence permits, some expiring soon; a few per cent of households are
民族团结文明家庭.

Deterministic for a seed on a given day (one ``random.Random(seed)``, never the global random
or the clock's time): birth dates are absolute, while moving dates and residence-permit expiry
dates are counted from today so that "expiring soon" stays true whenever the demo is built.
Idempotent like the district: if the demo district has households already, nothing is added.

Rows are written with ``bulk_create`` in batches so that ``--households 40000`` (about 100,000
persons) takes well under a minute. ``bulk_create`` bypasses ``Person.save``, so the copied
community, pinyin, initials and reversed ID number are set here, and no history rows are
written: demo data has no past worth auditing.
"""

import datetime
import functools
import itertools
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from network.models import Area, AreaLevel
from residents.id_numbers import check_digit
from residents.models import (
    DibaoStandard,
    Education,
    Ethnicity,
    Honour,
    HonourKind,
    Household,
    HouseholdStatus,
    IncomeBand,
    Person,
    PersonStatus,
    RegistrationKind,
    Relation,
    ResidenceKind,
)
from residents.names import initials_of


def _words(text: str) -> list[str]:
    return text.split()


DISTRICT_CODE = "320508000000"
DEFAULT_HOUSEHOLDS = 300
BATCH = 2000
LAST_BIRTH_YEAR = 2025  # births stay in the past whenever the demo is built
# 苏州 dibao standard (yuan per person per month) and the 20% minority supplement (seed 000).
DIBAO_STANDARDS = {2025: Decimal("1095.00"), 2026: Decimal("1095.00")}
DIBAO_SUPPLEMENT = Decimal("0.200")

# Minority groups among Suzhou's residents (47, seed 000), weighted per thousand persons.
ETHNIC_WEIGHTS = {
    "03": 300,  # 回族
    "11": 110,  # 满族
    "08": 70,  # 壮族
    "06": 70,  # 苗族
    "15": 65,  # 土家族
    "02": 55,  # 蒙古族
    "05": 45,  # 维吾尔族
    "14": 30,  # 白族
    "10": 30,  # 朝鲜族
    "07": 28,  # 彝族
    "12": 26,  # 侗族
    "09": 24,  # 布依族
    "04": 20,  # 藏族
    "13": 15,  # 瑶族
    "17": 10,  # 哈萨克族
    "22": 10,  # 畲族
    "19": 8,  # 黎族
    "16": 6,  # 哈尼族
    "18": 6,  # 傣族
    "37": 6,  # 仡佬族
    "25": 4,  # 水族
    "27": 4,  # 纳西族
    "33": 4,  # 羌族
    "38": 4,  # 锡伯族
    "30": 3,  # 土族
    "26": 3,  # 东乡族
    "35": 3,  # 撒拉族
    "20": 3,  # 傈僳族
    "32": 2,  # 仫佬族
    "36": 2,  # 毛南族
    "31": 2,  # 达斡尔族
    "28": 2,  # 景颇族
    "24": 2,  # 拉祜族
    "21": 2,  # 佤族
    "49": 2,  # 京族
    "29": 1,  # 柯尔克孜族
    "44": 1,  # 俄罗斯族
    "45": 1,  # 鄂温克族
    "34": 1,  # 布朗族
    "47": 1,  # 保安族
    "48": 1,  # 裕固族
    "40": 1,  # 普米族
    "43": 1,  # 乌孜别克族
    "41": 1,  # 塔吉克族
    "46": 1,  # 德昂族
    "52": 1,  # 鄂伦春族
    "53": 1,  # 赫哲族
}
HAN = "01"

# Region codes of the person's origin (the first six digits of the ID number).
ORIGINS = {
    "03": ["640104", "640102", "622901", "622921", "620102", "630104", "410105", "370102"],
    "11": ["210102", "210103", "130802", "130821", "230102", "110101"],
    "08": ["450102", "450103", "451002"],
    "06": ["522601", "433101", "431226", "522622"],
    "15": ["422801", "422802", "433101", "433130", "500241"],
    "02": ["150102", "150103", "150202"],
    "05": ["650102", "650103", "653101", "652901", "653001"],
    "14": ["532901", "532922"],
    "10": ["222401", "222403"],
    "07": ["513401", "513436", "532301"],
    "12": ["522631", "522632", "431229"],
    "09": ["522301", "522701"],
    "04": ["540102", "513230", "632801"],
    "13": ["431127", "451121"],
    "17": ["654002", "654003", "654301"],
    "18": ["532801", "533102"],
    "35": ["630102"],
    "26": ["622901"],
    "30": ["630102"],
}
OTHER_ORIGINS = ["530102", "530103", "520102", "520103", "450102", "330102", "350102", "320102"]
SUZHOU_OLD = ["320502", "320503", "320504"]  # 沧浪, 平江, 金阊: the old town until 2012
SUZHOU_NEW = ["320508", "320508", "320505", "320506", "320507"]

SURNAMES = {
    "03": "马马马马马马马白白丁丁沙哈穆金杨李王张刘纳米海回兰达铁冶虎敏",
    "11": "关关佟那那金赵富肇索唐德鄂伊常王张",
    "02": "包包鲍白韩宝吴王张",
    "10": "金金李朴朴崔郑姜赵尹张林",
    "08": "韦韦覃黄黄蓝莫陆农梁潘李",
    "06": "龙杨杨吴石麻王张熊侯",
    "15": "向田田彭覃冉张李",
    "14": "段杨杨赵李张王",
    "12": "吴杨石龙粟",
    "09": "韦王罗岑陆黄",
    "13": "盘赵邓冯李",
    "07": "杨李罗王张",
    HAN: "张王李陈周徐朱沈顾陆钱吴蒋孙金许曹袁",
}
COMMON_SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = {
    ("M", "old"): _words("建华 德明 永祥 国平 建国 玉林 振华 学文 志刚 根宝 福生 金龙 文华 宝林"),
    ("F", "old"): _words("玉兰 秀英 桂芳 秀兰 凤英 秀珍 桂兰 淑芬 玉珍 美华 月娥 金妹"),
    ("M", "mid"): _words("志强 晓东 海涛 伟 军 勇 磊 强 建军 卫东 海波 立新 文斌 国强 晓明 俊"),
    ("F", "mid"): _words("丽娜 海燕 晓红 红梅 丽 静 燕 敏 娟 霞 芳 晓燕 雪梅 丽华 美玲 晓丽"),
    ("M", "young"): _words("浩 宇 子豪 浩然 宇轩 一鸣 家豪 思远 博文 俊杰 晓东 天佑 子轩 梓睿"),
    ("F", "young"): _words("婷 欣怡 雨萱 思琪 佳怡 婉清 梓涵 一诺 诗涵 雅婷 子涵 晓雯 可馨"),
}
TURKIC_MALE = _words("买买提 艾力 艾合买提 阿不都 吐尔逊 库尔班 热合曼 阿迪力 麦麦提 艾尔肯 亚森")
TURKIC_FEMALE = _words("阿依古丽 古丽米拉 热依拉 帕提古丽 阿依努尔 古丽娜尔 迪丽拜尔 努尔古丽")
KAZAKH_MALE = _words("努尔兰 叶尔兰 别克 哈森 阿斯哈尔 达吾列提 叶尔江 加恩斯 马合沙提")
KAZAKH_FEMALE = _words("阿依达娜 古丽巴哈 阿依江 玛依拉 加娜尔 阿尔达克 哈丽达")
TIBETAN_ANY = _words("次仁 格桑 尼玛 达瓦 德吉 洛桑 索朗 平措")
TIBETAN_MALE = _words("扎西 多吉 顿珠 旺堆 罗布 旦增")
TIBETAN_FEMALE = _words("卓玛 央金 拉姆 措姆 曲珍 玉珍")
MONGOL_MALE = _words("巴特尔 苏和 额尔敦 那日苏 宝音 朝鲁 阿拉坦 巴图")
MONGOL_FEMALE = _words("乌云 其其格 斯琴 萨仁 乌兰 图雅 格日勒 哈斯")
YI_CLANS = _words("吉克 阿苏 沙马 曲比 阿牛")
YI_GIVEN = {"M": _words("木呷 拉且 尔古 曲布 阿木"), "F": _words("阿依 阿果 阿呷 莫色 伍沙")}

# Streets and residential estates (新村) of each demo community.
STREETS = {
    "平江路社区": ["平江路", "大新桥巷", "悬桥巷", "丁香巷", "中张家巷"],
    "钮家巷社区": ["钮家巷", "干将东路", "混堂巷", "萧家巷"],
    "菉葭巷社区": ["菉葭巷", "东北街", "白塔东路", "仓街"],
    "干将社区": ["干将东路", "凤凰街", "砂皮巷"],
    "胡厢使社区": ["胡厢使巷", "临顿路", "富郎中巷"],
    "大儒社区": ["大儒巷", "临顿路", "狮林寺巷"],
    "道前社区": ["道前街", "养育巷", "书院巷", "锦帆路"],
    "府前社区": ["人民路", "五卅路", "公园路"],
    "南环新村社区": ["南环东路", "东大街", "南环新村"],
    "三元社区": ["三香路", "三元一村", "三元二村", "三元三村"],
    "定慧寺社区": ["定慧寺巷", "凤凰街", "十全街"],
    "双塔社区": ["十全街", "带城桥路", "官太尉桥"],
    "官太尉社区": ["官太尉桥", "十梓街", "望星桥北堍"],
    "竹辉社区": ["竹辉路", "人民路", "南园北路"],
}
DEFAULT_STREETS = ["人民路", "干将东路", "十全街", "凤凰街"]
COMMUNITY_WEIGHTS = {"平江路社区": 14, "道前社区": 15, "南环新村社区": 13, "干将社区": 12}
WORKPLACES = [
    "苏州大学",
    "苏州市立医院",
    "观前街清真面馆",
    "兰州拉面馆（自营）",
    "新疆特色餐厅",
    "苏州工业园区某科技公司",
    "苏州轨道交通集团",
    "姑苏区某社区卫生服务中心",
    "快递网点",
    "个体经营",
    "苏州市第一中学",
    "石路商场",
]
NOTES = ["清真饮食", "逢年过节需走访", "独居，子女在外地", "行动不便，需上门服务"]
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 157 158 159 177 180 181 182 186 187 188 198"
)
# Heads of registered households: born 1941–1998, most between 1956 and 1984.
HEAD_YEARS = range(1941, 1999)
HEAD_YEAR_WEIGHTS = [1 + (y > 1950) + (1955 < y < 1985) for y in HEAD_YEARS]


def build(*, seed: int, stdout, households=None, persons=None, today=None, **_options):
    """Register demo households in the demo district unless it has some; return no logins.

    ``households`` defaults to 300; ``persons`` (used by the benchmark) fixes the total number
    of persons exactly by adjusting household sizes within 1–5.
    """
    district = Area.objects.filter(code=DISTRICT_CODE).first()
    if district is None:
        return []
    with transaction.atomic():
        for year, standard in DIBAO_STANDARDS.items():
            DibaoStandard.objects.get_or_create(
                area=district,
                year=year,
                defaults={"monthly_standard": standard, "supplement_rate": DIBAO_SUPPLEMENT},
            )
        if Household.objects.filter(community__path__startswith=district.path).exists():
            stdout.write("The demo district already has households; keeping them.")
            return []
        communities = list(
            Area.objects.filter(
                path__startswith=district.path, level=AreaLevel.COMMUNITY, is_active=True
            ).order_by("code", "name")
        )
        if not communities:
            return []
        builder = _Builder(random.Random(seed), today or timezone.localdate())
        count = DEFAULT_HOUSEHOLDS if households is None else households
        made_households, made_persons = builder.build(communities, count, persons)
    stdout.write(f"Registered {made_households} demo households, {made_persons} persons.")
    return []


def _weighted_table(weights: dict) -> tuple[list, list]:
    keys = list(weights)
    return keys, list(itertools.accumulate(weights[k] for k in keys))


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` by weights, largest remainder first, so every share is predictable."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


@functools.cache
def _region_years(code: str) -> list[tuple[int, int]] | None:
    """Years a region code was in use (python-stdnum's table); None when always."""
    from stdnum import numdb

    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    spans = []
    for county in info.get("county", "").split(","):
        if not county.startswith("["):
            return None
        start, end = county[1:].split("]")[0].split("-")
        spans.append((int(start or 0), int(end or 9999)))
    return spans


def _in_use(code: str, year: int) -> bool:
    spans = _region_years(code)
    return spans is None or any(start <= year <= end for start, end in spans)


class _Builder:
    def __init__(self, rng: random.Random, today: datetime.date):
        self.rng = rng
        self.today = today
        self.ethnicities = Ethnicity.objects.in_bulk(field_name="code")
        self.ethnic_keys, self.ethnic_cum = _weighted_table(ETHNIC_WEIGHTS)
        self.used_ids = set(
            Person.objects.exclude(id_number="").values_list("id_number", flat=True)
        )
        self.permit_serial = 0
        self.family_origins: dict[str, str] = {}  # ethnicity → region, for one household

    # ------------------------------------------------------------------ the whole register

    def build(self, communities, count: int, persons: int | None) -> tuple[int, int]:
        rng = self.rng
        sizes = [rng.choices((1, 2, 3, 4, 5), (22, 30, 27, 14, 7))[0] for _ in range(count)]
        if persons is not None:
            self._adjust_sizes(sizes, persons)
        shares = _allocate(count, [COMMUNITY_WEIGHTS.get(c.name, 10) for c in communities])
        subdistricts = {a.pk: a for a in Area.objects.filter(level=AreaLevel.SUBDISTRICT)}
        households, members, honours = [], [], []
        position = 0
        for community, share in zip(communities, shares, strict=True):
            prefix = initials_of(community.name.removesuffix("社区")).upper()
            sub = next(
                (subdistricts[i] for i in community.ancestor_ids() if i in subdistricts), None
            )
            for number in range(1, share + 1):
                household, people = self.household(community, sizes[position])
                position += 1
                household.ledger_number = f"{prefix}-{number:04d}"
                households.append(household)
                members.append(people)
                honours.append(self.honours(sub))
        Household.objects.bulk_create(households, batch_size=BATCH)
        rows = []
        for household, people in zip(households, members, strict=True):
            for person in people:
                person.household = household
                person.community_id = household.community_id
                rows.append(person)
        Person.objects.bulk_create(rows, batch_size=BATCH)
        awards = []
        for household, kinds in zip(households, honours, strict=True):
            for honour in kinds:
                honour.household = household
                awards.append(honour)
        Honour.objects.bulk_create(awards, batch_size=BATCH)
        return len(households), len(rows)

    def _adjust_sizes(self, sizes: list[int], persons: int) -> None:
        if not len(sizes) <= persons <= 5 * len(sizes):
            raise ValueError(f"{persons} persons cannot live in {len(sizes)} households of 1–5.")
        rng = self.rng
        while (diff := persons - sum(sizes)) != 0:
            step = 1 if diff > 0 else -1
            for _ in range(abs(diff)):
                i = rng.randrange(len(sizes))
                if 1 <= sizes[i] + step <= 5:
                    sizes[i] += step

    # ------------------------------------------------------------------ one household

    def household(self, community: Area, size: int) -> tuple[Household, list[Person]]:
        rng = self.rng
        roll = rng.random()
        kind = (
            RegistrationKind.REGISTERED
            if roll < 0.74
            else RegistrationKind.FLOATING
            if roll < 0.94
            else RegistrationKind.TEMPORARY
        )
        registered = kind == RegistrationKind.REGISTERED
        ethnicity = self.ethnic_code()
        people = self.members(ethnicity, size, registered)
        head = people[0]
        head_age = LAST_BIRTH_YEAR + 1 - head.birth_date.year
        dibao = rng.random() < (0.045 if registered else 0.01)
        low_income = not dibao and rng.random() < 0.04
        elderly_alone = size == 1 and head_age >= 65 and rng.random() < 0.7
        household = Household(
            community=community,
            address=self.address(community.name),
            registration_kind=kind,
            residence_kind=(
                ResidenceKind.COMPOUND
                if registered or rng.random() < 0.6
                else rng.choice([ResidenceKind.WORK_UNIT, ResidenceKind.NEW_ORGANISATION])
            ),
            phone=(
                f"0512-6{rng.randint(5000000, 8999999)}"
                if registered and rng.random() < 0.5
                else head.mobile
            ),
            is_dibao=dibao,
            dibao_persons=(
                rng.randint(1, size - 1) if dibao and size > 1 and rng.random() < 0.2 else None
            ),
            is_low_income=low_income,
            has_disability=rng.random() < 0.03,
            is_elderly_alone=elderly_alone,
            has_serious_illness=rng.random() < 0.02,
            income_band=(
                IncomeBand.BELOW_DIBAO
                if dibao
                else IncomeBand.LOW
                if low_income
                else rng.choices(
                    [IncomeBand.UNKNOWN, IncomeBand.MODERATE, IncomeBand.ABOVE], (2, 5, 4)
                )[0]
            ),
            notes=rng.choice(NOTES) if rng.random() < 0.03 else "",
            moved_in_on=self.moved_in(registered),
        )
        if rng.random() < 0.01:
            household.status = HouseholdStatus.MOVED_AWAY
            household.moved_out_on = self.today - datetime.timedelta(days=rng.randint(30, 900))
            for person in people:
                person.status = PersonStatus.MOVED_AWAY
                person.status_changed_on = household.moved_out_on
        if not registered:
            for person in people:
                self.residence_permit(person, community)
        return household, people

    def honours(self, subdistrict) -> list[Honour]:
        rng = self.rng
        if rng.random() >= 0.04:
            return []
        years = sorted(rng.sample(range(2019, 2026), rng.choice((1, 1, 1, 2))))
        awarded_by = (
            f"{subdistrict.name}党工委"
            if subdistrict and rng.random() < 0.6
            else "姑苏区民族宗教事务局"
        )
        return [
            Honour(
                year=year,
                kind=HonourKind.MODEL_FAMILY,
                title="民族团结文明家庭",
                awarded_by=awarded_by,
            )
            for year in years
        ]

    def members(self, ethnicity: str, size: int, registered: bool) -> list[Person]:
        """Head, spouse (often Han in a mixed household), children, a parent, a grandchild."""
        rng = self.rng
        self.family_origins = {}
        if registered:
            head_year = rng.choices(HEAD_YEARS, HEAD_YEAR_WEIGHTS)[0]
        else:
            head_year = rng.randint(1976, 2003)
        head_sex = "M" if rng.random() < 0.65 else "F"
        head = self.person(ethnicity, head_sex, head_year, Relation.HEAD, registered)
        people = [head]
        spouse = None
        if size >= 2 and rng.random() < 0.85:
            roll = rng.random()
            spouse_ethnicity = (
                HAN if roll < 0.3 else self.ethnic_code() if roll < 0.35 else ethnicity
            )
            spouse = self.person(
                spouse_ethnicity,
                "F" if head_sex == "M" else "M",
                head_year + rng.randint(-4, 4),
                Relation.SPOUSE,
                registered,
                surname=None,
            )
            people.append(spouse)
        father = head if head_sex == "M" else spouse
        children = []
        while len(people) < size:
            child_year = head_year + rng.randint(22, 36)
            grand_year = children[0].birth_date.year + rng.randint(22, 32) if children else 9999
            if grand_year <= LAST_BIRTH_YEAR and rng.random() < 0.4:
                relation, year = Relation.GRANDCHILD, grand_year
            elif head_year > 1970 and rng.random() < 0.15:
                relation, year = Relation.PARENT, head_year - rng.randint(22, 34)
            elif child_year <= LAST_BIRTH_YEAR:
                relation, year = Relation.CHILD, child_year
            else:
                relation, year = Relation.SIBLING, head_year + rng.randint(-6, 6)
            member_ethnicity = ethnicity
            if spouse is not None and relation == Relation.CHILD and rng.random() < 0.1:
                member_ethnicity = spouse.ethnicity_code
            sex = "M" if rng.random() < 0.5 else "F"
            surname = None  # children, siblings and the father take the family surname
            if relation in (Relation.CHILD, Relation.GRANDCHILD):
                surname = (father or head).surname
            elif relation == Relation.SIBLING or (relation == Relation.PARENT and sex == "M"):
                surname = head.surname if head_sex == "M" else None
            member = self.person(
                member_ethnicity,
                sex,
                year,
                relation,
                registered,
                surname=surname,
                father=father if relation == Relation.CHILD else None,
            )
            if relation == Relation.CHILD:
                children.append(member)
            people.append(member)
        return people

    # ------------------------------------------------------------------ one person

    def person(
        self, ethnicity, sex, year, relation, registered, *, surname=None, father=None
    ) -> Person:
        rng = self.rng
        year = min(max(year, 1925), LAST_BIRTH_YEAR)
        born = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        name, surname, own = self.name(ethnicity, sex, year, surname=surname, father=father)
        id_number = self.id_number(ethnicity, sex, born, registered)
        age = LAST_BIRTH_YEAR + 1 - year
        adult = age >= 18
        person = Person(
            relation=relation,
            name=name,
            sex=sex,
            ethnicity=self.ethnicities[ethnicity],
            id_number=id_number,
            birth_date=born,
            mobile=self.mobile() if age >= 16 else "",
            workplace=(
                rng.choice(WORKPLACES) if adult and age <= 60 and rng.random() < 0.6 else ""
            ),
            education=self.education(year),
            is_key_person=adult and rng.random() < 0.015,
            is_volunteer=adult and age <= 75 and rng.random() < 0.08,
            is_association_member=adult and rng.random() < 0.05,
        )
        if age >= 72 and rng.random() < 0.02:
            person.status = PersonStatus.DECEASED
            person.status_changed_on = self.today - datetime.timedelta(days=rng.randint(10, 700))
        # remembered for the family's other members; not fields
        person.surname, person.own_name, person.ethnicity_code = surname, own, ethnicity
        person.fill_search_fields()  # bulk_create skips Person.save
        return person

    def name(self, ethnicity, sex, year, *, surname=None, father=None) -> tuple[str, str, str]:
        """A name as the group writes it in Chinese: (name, surname or "", own name).

        Uyghur and Kazakh names are the own name and the father's (买买提·艾力); a child of a
        head with a surname takes it."""
        rng = self.rng
        male = sex == "M"
        turkic = ethnicity in ("05", "29", "41", "43", "50")
        if turkic or ethnicity == "17":
            pools = (TURKIC_MALE, TURKIC_FEMALE) if turkic else (KAZAKH_MALE, KAZAKH_FEMALE)
            own = rng.choice(pools[0] if male else pools[1])
            fathers = getattr(father, "own_name", "") if father is not None else ""
            if not fathers or getattr(father, "ethnicity_code", "") != ethnicity:
                fathers = rng.choice(pools[0])
            return f"{own}·{fathers}", "", own
        if ethnicity == "04":
            tail = rng.choice(TIBETAN_MALE if male else TIBETAN_FEMALE)
            return rng.choice(TIBETAN_ANY) + tail, "", ""
        if ethnicity == "02" and surname is None and rng.random() < 0.4:
            return rng.choice(MONGOL_MALE if male else MONGOL_FEMALE), "", ""
        if ethnicity == "07" and surname is None and rng.random() < 0.3:
            return rng.choice(YI_CLANS) + rng.choice(YI_GIVEN[sex]), "", ""
        if ethnicity == "18":
            return ("岩" if male else "玉") + rng.choice("温罗光坎香恩腊罕应波"), "", ""
        if not surname:
            surname = rng.choice(SURNAMES.get(ethnicity, COMMON_SURNAMES))
        era = "old" if year < 1965 else "mid" if year < 1995 else "young"
        return surname + rng.choice(GIVEN[(sex, era)]), surname, ""

    def id_number(self, ethnicity: str, sex: str, born: datetime.date, registered: bool) -> str:
        """A valid number: region of Suzhou or of origin, birth date, sequence odd for men."""
        rng = self.rng
        if registered and (ethnicity == HAN or rng.random() < 0.7):
            in_use = [c for c in SUZHOU_NEW + SUZHOU_OLD if _in_use(c, born.year)] or SUZHOU_OLD
            region = rng.choice(in_use)
        else:  # the family's home region, or another of the group's when it was not in use yet
            candidates = ORIGINS.get(ethnicity, OTHER_ORIGINS)
            region = self.family_origins.setdefault(ethnicity, rng.choice(candidates))
            if not _in_use(region, born.year):
                region = rng.choice([c for c in candidates if _in_use(c, born.year)] or [region])
        while True:
            sequence = rng.randrange(1, 500) * 2 if sex == "F" else rng.randrange(500) * 2 + 1
            first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
            number = first17 + check_digit(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def residence_permit(self, person: Person, community: Area) -> None:
        """Floating residents over 16 hold a residence permit; some expire within two months."""
        rng = self.rng
        if person.birth_date.year > LAST_BIRTH_YEAR - 15:
            return
        self.permit_serial += 1
        person.residence_permit_number = f"苏居{community.code[:6]}{self.permit_serial:06d}"
        roll = rng.random()
        days = (
            -rng.randint(1, 90)
            if roll < 0.06
            else rng.randint(1, 60)
            if roll < 0.2
            else rng.randint(61, 1000)
        )
        person.residence_permit_expires_on = self.today + datetime.timedelta(days=days)

    # ------------------------------------------------------------------ small pieces

    def ethnic_code(self) -> str:
        return self.rng.choices(self.ethnic_keys, cum_weights=self.ethnic_cum)[0]

    def address(self, community_name: str) -> str:
        rng = self.rng
        street = rng.choice(STREETS.get(community_name, DEFAULT_STREETS))
        room = f"{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
        if street.endswith("村"):
            return f"{street}{rng.randint(1, 40)}幢{rng.randint(1, 4)}单元{room}"
        number = rng.randint(1, 320)
        if rng.random() < 0.5:
            return f"{street}{number}号"
        return f"{street}{number}号{rng.randint(1, 12)}幢{room}"

    def mobile(self) -> str:
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"

    def moved_in(self, registered: bool) -> datetime.date:
        rng = self.rng
        if registered:
            return datetime.date(rng.randint(1985, 2024), rng.randint(1, 12), rng.randint(1, 28))
        return self.today - datetime.timedelta(days=rng.randint(30, 3650))

    def education(self, year: int) -> str:
        rng = self.rng
        age = LAST_BIRTH_YEAR + 1 - year
        if age < 7:
            return Education.NONE
        if age < 13:
            return Education.PRIMARY
        if age < 16:
            return Education.JUNIOR
        if age < 19:
            return Education.SENIOR
        if year < 1960:
            choices, weights = Education.values, (2, 2, 4, 4, 3, 1, 1, 0)
        else:
            choices, weights = Education.values, (2, 0, 1, 3, 4, 4, 5, 1)
        return rng.choices(choices, weights)[0]
