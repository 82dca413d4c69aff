"""Ledger import speed: ours against django-import-export and a plain bulk_create.

    python -m bench import --rows 10000 --database-url postgres://…/tongxin_bench

Uses DJANGO_SETTINGS_MODULE (default config.settings.development) and whatever DATABASE_URL
is set; the database must be migrated. It generates a realistic messy ledger xlsx (full-width
digits, padded names, lower-case x, 回 for 回族, 男/M, five date spellings, merged cells) and
times, on the same rows:

- ours: read the xlsx, validate every row, write with history (residents.ledger_import);
- django-import-export with default settings via ``PersonResource`` (clean values, since it
  cannot read the messy ones; households created beforehand, untimed — in its favour);
- plain ``bulk_create`` of the same households and persons (clean values, no validation, no
  history, no pinyin) — the ceiling.

Every phase runs in a transaction that is rolled back, so the database is left as it was
(demo areas it had to create included).
"""

import argparse
import datetime
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import common, datagen  # noqa: E402  (after the path, for ``python bench/...``)

SURNAMES = "马白李王张哈丁金穆沙海纳喇撒买艾阿古铁杨"
GIVEN = [
    "建华",
    "玉兰",
    "秀英",
    "海燕",
    "志强",
    "晓红",
    "德明",
    "桂芳",
    "永祥",
    "丽娜",
    "雪",
    "明",
    "文静",
    "国庆",
    "子涵",
    "欣怡",
    "浩然",
    "梓萱",
    "俊杰",
    "婷",
]
ETHNIC_SPELLINGS = {
    "03": ["回", "回族", "03", "3", "Hui", " 回族 "],
    "11": ["满", "满族", "11"],
    "05": ["维吾尔族", "维吾尔", "05"],
    "02": ["蒙古族", "蒙古", "02"],
    "01": ["汉族", "汉"],
    "10": ["朝鲜族", "朝鲜"],
}
ETHNIC_WEIGHTS = {"03": 50, "11": 12, "05": 10, "02": 8, "01": 15, "10": 5}
STREETS = ["平江路", "干将东路", "临顿路", "人民路", "道前街", "十全街", "凤凰街", "东北街"]
RELATIONS = ["配偶", "妻子", "丈夫", "儿子", "女儿", "子女", "父亲", "母亲", "孙子", "儿媳"]
FULL = str.maketrans("0123456789", "０１２３４５６７８９")


class Rollback(Exception):
    pass


def setup(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    # DEBUG makes Django keep (and on SQLite re-quote) every query's SQL: not how a server runs.
    os.environ.setdefault("DEBUG", "false")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def bench_areas():
    """The demo district's communities; created (inside the rolled-back transaction) when
    the database has none."""
    from network.models import Area, AreaLevel

    communities = list(Area.objects.communities().filter(is_active=True, code__isnull=False))
    if len(communities) >= 2:
        return communities[:6]
    district, _created = Area.objects.get_or_create(
        code="320508000000", defaults={"name": "姑苏区", "level": AreaLevel.DISTRICT}
    )
    street, _created = Area.objects.get_or_create(
        code="320508001000",
        defaults={"name": "平江街道", "level": AreaLevel.SUBDISTRICT, "parent": district},
    )
    made = []
    for n, name in enumerate(["平江路社区", "干将社区", "临顿社区", "东北街社区"], start=1):
        area, _created = Area.objects.get_or_create(
            code=f"320508001{n:03d}",
            defaults={"name": name, "level": AreaLevel.COMMUNITY, "parent": street},
        )
        made.append(area)
    return made


def generate(rows: int, communities, seed: int = 2026):
    """The messy ledger (list of header → cell) and the clean truth for each row."""
    from residents.id_numbers import check_digit

    rng = random.Random(seed)
    messy, truth = [], []
    used_ids: set[str] = set()
    used_pairs: set[tuple] = set()
    household = 0
    previous_community = None
    while len(messy) < rows:
        household += 1
        community = communities[household % len(communities)]
        size = min(rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5]), rows - len(messy))
        number = f"BJ-{household:05d}"
        street = rng.choice(STREETS)
        address = f"{street}{rng.randint(1, 400)}号{rng.randint(1, 12)}幢{rng.randint(101, 1802)}室"
        if household % 7 == 0:
            address = f"{street}{household}号"  # unique enough, and sometimes full width
        registration = rng.choice(["户籍", "户籍", "户籍", "流动", "暂住"])
        phone = f"0512-6{rng.randint(1000000, 9999999)}"
        dibao = rng.random() < 0.08
        surname = rng.choice(SURNAMES)
        code = rng.choices(list(ETHNIC_WEIGHTS), weights=list(ETHNIC_WEIGHTS.values()))[0]
        for member in range(size):
            head = member == 0
            sex = rng.choice("MF")
            born = datetime.date(rng.randint(1935, 2022), rng.randint(1, 12), rng.randint(1, 28))
            name = surname + rng.choice(GIVEN) + ("" if rng.random() < 0.7 else rng.choice(GIVEN))
            has_id = born.year < 2016 or rng.random() < 0.5
            id_number = ""
            if has_id:
                while True:
                    seq = rng.randint(0, 499) * 2 + (1 if sex == "M" else 0)
                    first17 = f"320508{born:%Y%m%d}{seq:03d}"
                    id_number = first17 + check_digit(first17)
                    if id_number not in used_ids:
                        used_ids.add(id_number)
                        break
            else:
                while (name, born) in used_pairs:
                    name += rng.choice(GIVEN)
            used_pairs.add((name, born))
            relation = "户主" if head else rng.choice(RELATIONS)
            cells = {
                "户号": number if head or rng.random() < 0.6 else "",
                "社区": "",
                "地址": "",
                "姓名": name,
                "与户主关系": relation,
                "民族": rng.choice(ETHNIC_SPELLINGS[code]),
            }
            if head:
                cells["社区"] = (
                    ""
                    if community == previous_community and rng.random() < 0.5
                    else rng.choice(
                        [community.name, community.code, community.code.translate(FULL)]
                    )
                )
                previous_community = community
                cells["地址"] = address.translate(FULL) if rng.random() < 0.3 else address
                cells["户籍类别"] = registration
                cells["居住类型"] = rng.choice(["小区", "小区", "单位", "其他"])
                cells["联系电话"] = phone.translate(FULL) if rng.random() < 0.2 else phone
                cells["低保"] = "是" if dibao else rng.choice(["否", "", "×"])
            if not cells["户号"] and not head:
                cells["地址"] = ""  # merged cells: the row above's household
            if len(name) == 2 and rng.random() < 0.3:
                cells["姓名"] = f"{name[0]}\u3000{name[1]}"
            elif rng.random() < 0.1:
                cells["姓名"] = f" {name} "
            if id_number:
                cells["身份证号"] = id_number.lower() if rng.random() < 0.5 else id_number
            if not id_number or rng.random() < 0.5:
                cells["性别"] = rng.choice({"M": ["男", "M", "m"], "F": ["女", "F", "f"]}[sex])
            if not id_number or rng.random() < 0.5:
                style = rng.randrange(6)
                cells["出生日期"] = [
                    datetime.datetime(born.year, born.month, born.day),
                    f"{born:%Y.%m.%d}",
                    f"{born.year}-{born.month}-{born.day}",
                    f"{born.year}/{born.month}/{born.day}",
                    f"{born.year}年{born.month}月{born.day}日",
                    f"{born:%Y-%m-%d}".translate(FULL),
                ][style]
            mobile = f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}"
            if rng.random() < 0.6:
                cells["手机"] = mobile.translate(FULL) if rng.random() < 0.2 else mobile
            else:
                mobile = ""
            cells["文化程度"] = rng.choice(["", "小学", "初中", "高中", "中专", "大专", "本科"])
            cells["志愿者"] = rng.choice(["", "是", "否"])
            messy.append(cells)
            truth.append(
                {
                    "household": household,
                    "community": community,
                    "ledger_number": number,
                    "address": address,
                    "registration_kind": {"户籍": "registered", "流动": "floating"}.get(
                        registration, "temporary"
                    ),
                    "phone": phone,
                    "is_dibao": dibao,
                    "name": name,
                    "relation": "head" if head else "other",
                    "sex": sex,
                    "ethnicity_code": code,
                    "id_number": id_number,
                    "birth_date": born,
                    "mobile": mobile,
                }
            )
    return messy, truth


def to_xlsx(messy) -> bytes:
    from openpyxl import Workbook

    from residents.ledger_import import HEADERS

    book = Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    sheet.append(HEADERS)
    for cells in messy:
        sheet.append([cells.get(h, "") for h in HEADERS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def in_rolled_back_transaction(work):
    """Run ``work`` in a transaction that is rolled back; return its timing (seconds)."""
    from django.db import transaction

    result = {}
    try:
        with transaction.atomic():
            start = time.perf_counter()
            result["value"] = work()
            result["seconds"] = time.perf_counter() - start
            raise Rollback
    except Rollback:
        pass
    return result


def ours(data: bytes) -> dict:
    from residents.ledger_import import plan_ledger, read_ledger, write_ledger

    phases = {}
    start = time.perf_counter()
    rows, ignored = read_ledger(data, "bench.xlsx")
    phases["read"] = time.perf_counter() - start
    start = time.perf_counter()
    plan = plan_ledger(rows, by=None, ignored_columns=ignored)
    phases["validate"] = time.perf_counter() - start
    if not plan.ok:
        raise SystemExit("the generated ledger was refused:\n" + "\n".join(plan.error_lines()[:20]))
    start = time.perf_counter()
    write_ledger(plan, by=None, reason="import bench")
    phases["write"] = time.perf_counter() - start
    phases["counts"] = plan.counts()
    return phases


def _households(truth):
    from residents.models import Household

    households = {}
    for row in truth:
        if row["household"] not in households:
            households[row["household"]] = Household(
                community=row["community"],
                ledger_number=row["ledger_number"],
                address=row["address"],
                registration_kind=row["registration_kind"],
                phone=row["phone"],
                is_dibao=row["is_dibao"],
            )
    return households


def plain_bulk_create(truth) -> None:
    from residents.models import Ethnicity, Household, Person

    ethnicities = {e.code: e for e in Ethnicity.objects.all()}
    households = _households(truth)
    Household.objects.bulk_create(households.values(), batch_size=500)
    Person.objects.bulk_create(
        [
            Person(
                household=households[row["household"]],
                community=row["community"],
                name=row["name"],
                relation=row["relation"],
                sex=row["sex"],
                ethnicity=ethnicities[row["ethnicity_code"]],
                id_number=row["id_number"],
                id_number_reversed=row["id_number"][::-1],
                birth_date=row["birth_date"],
                mobile=row["mobile"],
            )
            for row in truth
        ],
        batch_size=500,
    )


def import_export(truth) -> dict:
    """PersonResource.import_data with default settings; households made first (untimed)."""
    import tablib

    from residents.models import Ethnicity, Household
    from residents.resources import PersonResource

    names = {e.code: e.name for e in Ethnicity.objects.all()}
    households = _households(truth)
    Household.objects.bulk_create(households.values(), batch_size=500)
    resource = PersonResource()
    headers = [f.column_name for f in resource.get_import_fields()]
    dataset = tablib.Dataset(headers=headers)
    for row in truth:
        values = {
            "id": "",
            "household_id": households[row["household"]].pk,
            "姓名": row["name"],
            "与户主关系": row["relation"],
            "性别": row["sex"],
            "民族": names[row["ethnicity_code"]],
            "身份证号": row["id_number"],
            "出生日期": row["birth_date"].isoformat(),
            "手机": row["mobile"],
            "重点人士": "0",
            "志愿者": "0",
        }
        dataset.append([values.get(h, "") for h in headers])
    start = time.perf_counter()
    result = resource.import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - start
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit("django-import-export refused the clean rows")
    return {"seconds": seconds, "totals": dict(result.totals)}


SECTION = "## Ledger import"
NAME = SECTION.removeprefix("## ")
TARGET = 0.2  # ours at least a fifth of bulk_create's rows per second


def measure(args) -> dict:
    """In a child process: generate the ledger and time the three imports (rolled back)."""
    setup(args.database_url)

    from django.conf import settings
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit("The database has unapplied migrations: run manage.py migrate first.")

    from residents.id_numbers import parse_id_number
    from residents.names import pinyin_of

    pinyin_of("马晓东")  # load dictionaries once, as a running server has them
    parse_id_number("11010519491231002X")

    from django.db import transaction

    from residents.models import Person

    report = {}
    try:
        with transaction.atomic():  # the demo areas, if created, go with the rollback
            communities = bench_areas()
            messy, truth = generate(args.rows, communities, args.seed)
            data = to_xlsx(messy)
            timed = in_rolled_back_transaction(lambda: ours(data))
            report["ours"] = timed["value"]
            report["ours"]["seconds"] = timed["seconds"]
            report["bulk"] = in_rolled_back_transaction(lambda: plain_bulk_create(truth))
            del report["bulk"]["value"]
            ie_rows = args.import_export_rows or args.rows
            report["ie"] = in_rolled_back_transaction(lambda: import_export(truth[:ie_rows]))[
                "value"
            ]
            report["ie"]["rows"] = ie_rows
            raise Rollback
    except Rollback:
        pass
    vendor = connection.vendor
    report["vendor"] = vendor
    report["version"] = (
        ".".join(str(v) for v in connection.Database.sqlite_version_info)
        if vendor == "sqlite"
        else common.server_version()
    )
    report["database"] = connection.settings_dict["NAME"]
    report["persons_in_database"] = Person.objects.count()
    report["rows"] = args.rows
    report["xlsx_kib"] = len(data) // 1024
    report["debug"] = settings.DEBUG
    report["load"] = os.getloadavg()[0]
    return report


def lines_printed(report: dict) -> list[str]:
    rows, o = report["rows"], report["ours"]
    bulk_rate = rows / report["bulk"]["seconds"]
    ours_rate = rows / o["seconds"]
    ie_rate = report["ie"]["rows"] / report["ie"]["seconds"]
    parsed_rate = rows / (o["validate"] + o["write"])
    return [
        f"Database: {report['vendor']} {report['version']}; {rows} ledger rows, "
        f"{report['xlsx_kib']} KiB xlsx; DEBUG={report['debug']}",
        f"  ours (read+validate+write, with history): {ours_rate:8.0f} rows/s "
        f"({o['seconds']:.2f} s: read {o['read']:.2f}, validate {o['validate']:.2f}, "
        f"write {o['write']:.2f}); {o['counts']['households_new']} households, "
        f"{o['counts']['persons_new']} persons",
        f"  django-import-export (default settings):  {ie_rate:8.0f} rows/s "
        f"({report['ie']['seconds']:.2f} s for {report['ie']['rows']} rows)",
        f"  plain bulk_create (no validation/history): {bulk_rate:8.0f} rows/s "
        f"({report['bulk']['seconds']:.2f} s)",
        f"  ours from parsed rows (validate+write):    {parsed_rate:8.0f} rows/s "
        f"(1/{bulk_rate / parsed_rate:.1f} of plain bulk_create, which also starts from "
        "parsed values)",
        f"  ratio to plain bulk_create: ours 1/{bulk_rate / ours_rate:.1f}, "
        f"django-import-export 1/{bulk_rate / ie_rate:.1f} "
        f"(ours is {ours_rate / ie_rate:.0f}× django-import-export)",
    ]


def targets(report: dict) -> list:
    rows = report["rows"]
    bulk_rate = rows / report["bulk"]["seconds"]
    ours_rate = rows / report["ours"]["seconds"]
    share = ours_rate / bulk_rate
    return [
        common.at_least(
            NAME,
            "Ledger import, end to end: rows/s / bulk_create's",
            share,
            TARGET,
            shown=f"{share:.2f} (1/{1 / share:.1f})",
        )
    ]


def section(report: dict, *, argv: list[str], found: list) -> str:
    rows, o = report["rows"], report["ours"]
    bulk_rate = rows / report["bulk"]["seconds"]
    ours_rate = rows / o["seconds"]
    ie_rate = report["ie"]["rows"] / report["ie"]["seconds"]
    parsed_rate = rows / (o["validate"] + o["write"])
    lines = [
        SECTION,
        "",
        f"Measured {common.machine_line()}; {report['vendor']} {report['version']} (database "
        f"`{report['database']}`, holding {report['persons_in_database']:,} persons), DEBUG "
        f"{'on' if report['debug'] else 'off'}, every phase in a rolled-back transaction. Load "
        f"average (1 min) at the end: {report['load']:.1f}. Target: ours, end to end, at least "
        f"1/{1 / TARGET:g} of plain `bulk_create`'s rows per second.",
        "",
        *common.command_block("import", argv),
        "",
        f"A generated messy ledger of {rows:,} rows ({report['xlsx_kib']:,} KiB xlsx: full-width "
        "digits, padded names, lower-case x, 回 for 回族, 男/M, five date spellings, households "
        "on consecutive rows).",
        "",
        *common.targets_lines(found),
        "",
        "| import | rows/s | vs plain bulk_create |",
        "|---|---:|---:|",
        f"| Tongxin: read xlsx, validate every row, write with history (read {o['read']:.2f} s, "
        f"validate {o['validate']:.2f} s, write {o['write']:.2f} s) | {ours_rate:,.0f} "
        f"| 1/{bulk_rate / ours_rate:.1f} |",
        "| Tongxin from parsed rows (validate + write, as bulk_create starts from parsed values) "
        f"| {parsed_rate:,.0f} | 1/{bulk_rate / parsed_rate:.1f} |",
        "| django-import-export, default settings (clean values, households made beforehand, "
        f"untimed; {report['ie']['rows']:,} rows) | {ie_rate:,.0f} | 1/{bulk_rate / ie_rate:.1f} |",
        "| plain `bulk_create` of the same households and persons (no validation, no history) "
        f"| {bulk_rate:,.0f} | 1 |",
    ]
    return "\n".join(lines) + "\n"


def parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench import", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument(
        "--import-export-rows",
        type=int,
        default=None,
        help="rows for django-import-export (default: all; it is the slow one)",
    )
    parser.add_argument("--database-url", help="overrides DATABASE_URL")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path, default=common.OUTPUT)
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print, do not write the docs (a run on SQLite never writes them)",
    )
    parser.add_argument("--measure-into", help=argparse.SUPPRESS)  # the child's JSON file
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    if args.measure_into:
        common.write_json(args.measure_into, measure(args))
        return 0
    child_argv = ["--rows", str(args.rows), "--seed", str(args.seed)]
    if args.import_export_rows:
        child_argv += ["--import-export-rows", str(args.import_export_rows)]
    if args.database_url:
        child_argv += ["--database-url", args.database_url]
        datagen.ensure_postgres(args.database_url)
    report = common.run_child("import", child_argv, f"{args.rows:,} ledger rows")
    print("\n".join(lines_printed(report)))
    found = targets(report)
    common.record(found)
    if args.no_write:
        return 0
    if report["vendor"] != "postgresql":
        print(
            "Not written to the docs: their figures are PostgreSQL's (pass --database-url).",
            file=sys.stderr,
        )
        return 0
    common.write_section(section(report, argv=argv or [], found=found), args.output, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
