"""Registry pages against Django's stock admin, on the same data in the same run.

``python -m bench registry`` measures, on PostgreSQL, the register list (plain, filtered,
searched by name, pinyin, initials and ID tail, a deep page) and the household page, each
beside the admin page that answers the same question, and writes the figures to
docs/performance.md ("Registry pages"). It runs two passes, each in a child process with its
own database: a small one (1,000 persons) for the query counts and the full size (100,000
persons) for the counts and the timings. See bench/README.md.
"""

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from bench import common, datagen
from bench.common import explain as _explain

# Shared with the other benchmarks (and imported from here by some): kept under these names.
from bench.common import explained, measure_urls, write_section
from bench.common import machine as _machine
from bench.common import paging as _paging
from bench.common import with_query as _with_query

ROOT = datagen.ROOT
OUTPUT = ROOT / "docs" / "performance.md"
SECTION = "## Registry pages"
DEEP_PAGE = 1500
COMMUNITY_USER = "pingjianglu"
BUREAU_USER = "quminzongju"
SUPERUSER = "admin"


@dataclass
class Page:
    key: str
    label: str
    params: dict = field(default_factory=dict)  # our GET parameters
    admin_params: dict = field(default_factory=dict)
    target: float | None = None  # the most our time may be, as a share of the admin's
    detail: bool = False  # the household page rather than the list


def pages(hui_id: int) -> list[Page]:
    return [
        Page("list", "List, plain", {}, {}, 0.5),
        Page(
            "ethnicity",
            "List, ethnicity 回族 (03)",
            {"ethnicity": "03"},
            {"ethnicity__id__exact": hui_id},
            0.5,
        ),
        Page("name", "Search, name 马晓", {"q": "马晓"}, {"q": "马晓"}, 0.25),
        Page("pinyin", "Search, pinyin maxiao", {"q": "maxiao"}, {"q": "maxiao"}, 0.25),
        Page("initials", "Search, initials mxd", {"q": "mxd"}, {"q": "mxd"}, 0.25),
        Page("id_tail", "Search, ID tail 1234", {"q": "1234"}, {"q": "1234"}, 0.25),
        Page("deep", f"Deep page ({DEEP_PAGE}, by cursor)", {"page": DEEP_PAGE}, {}, 0.25),
        Page("household", "Household page (5 members)", target=0.5, detail=True),
    ]


# ---------------------------------------------------------------------------- child: measure


def measure(args) -> dict:
    """Run in a child process: prepare the database, then measure every page."""
    datagen.setup_django(args.database_url)
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from network.models import User
    from residents.models import Ethnicity, Household

    datagen.migrate()
    generated = datagen.ensure_data(
        args.database_url,
        households=args.households,
        persons=args.persons,
        seed=args.seed,
        regenerate=args.regenerate,
    )
    households, persons = datagen.register_size()
    load_before = os.getloadavg()[0]
    clients = {}
    for who, username in (("bureau", BUREAU_USER), ("community", COMMUNITY_USER)):
        clients[who] = Client()
        clients[who].force_login(User.objects.get(username=username))
    clients["admin"] = Client()
    clients["admin"].force_login(User.objects.get(username=SUPERUSER))
    household = (
        Household.objects.filter(community__name="平江路社区")
        .annotate(size=Count("members"))
        .order_by("-size", "pk")
        .first()
    )
    admin_list = reverse("admin:residents_person_changelist")
    results = []
    skipped = []
    for page in pages(Ethnicity.objects.get(code="03").pk):
        try:
            if page.detail:
                ours = reverse("residents:household-detail", kwargs={"pk": household.pk})
            else:
                ours = reverse("residents:person-list")
        except NoReverseMatch:
            ours = None
            skipped.append(page.key)
        if page.detail:
            admin_url = reverse("admin:residents_household_change", args=[household.pk])
        else:
            admin_url = admin_list
        row = {"key": page.key, "label": page.label, "target": page.target, "users": {}}
        urls = {}
        for who in ("bureau", "community", "admin"):
            url = admin_url if who == "admin" else ours
            if url is None:
                continue
            params = dict(page.admin_params if who == "admin" else page.params)
            if page.key == "deep":
                params = _deep_params(clients, who, ours, admin_list)
            urls[who] = _with_query(url, params)
            print(f"  {page.key:<10} {who:<9} {urls[who]}", file=sys.stderr)
        row["users"] = measure_urls(clients, urls, warmup=args.warmup, repeat=args.repeat)
        ours_ms = row["users"].get("bureau", {}).get("median_ms")
        admin_ms = row["users"].get("admin", {}).get("median_ms")
        row["ratio"] = ours_ms / admin_ms if ours_ms and admin_ms else None
        if row["ratio"] is not None and page.target is not None and row["ratio"] > page.target:
            slowest = row["users"]["bureau"].get("slowest") or {}
            row["explain"] = {
                "sql": slowest.get("sql", ""),
                "plan": _explain(slowest.get("sql", "")),
            }
        results.append(row)
    version = common.server_version()
    return {
        "database": datagen.database_name(args.database_url),
        "vendor": connection.vendor,
        "server_version": str(version),
        "households": households,
        "persons": persons,
        "generated_seconds": generated,
        "warmup": args.warmup,
        "repeat": args.repeat,
        "skipped": skipped,
        "load": [load_before, os.getloadavg()[0]],
        "pages": results,
    }


def _pages_of(client, url: str) -> tuple[int | None, int | None]:
    """Rows per page and pages of our list for the client's user; a list that does not count
    its rows gets its pages from the persons the user sees."""
    from network.models import User
    from residents.models import Person

    per_page, num_pages = _paging(client, url)
    if per_page and num_pages is None:
        user = client.session.get("_auth_user_id")
        visible = Person.objects.visible_to(User.objects.get(pk=user)).current()
        num_pages = max(1, visible.filter(status="active").count() // per_page)
    return per_page, num_pages


def _deep_params(clients, who: str, ours: str | None, admin_list: str) -> dict:
    """Page 1500 of ours (or the last full page, when there are fewer), and the admin page
    that shows the same rows (the admin shows 100 a page)."""
    if who != "admin":
        per_page, pages_of_user = _pages_of(clients[who], ours)
        page = min(DEEP_PAGE, pages_of_user or DEEP_PAGE)
        if page <= 1:
            return {"page": 1}
        return {"page": page, "after": _cursor_before(clients[who], page, per_page or 50)}
    per_page, num_pages = _pages_of(clients["bureau"], ours) if ours else (None, None)
    admin_per_page, admin_pages = _paging(clients["admin"], admin_list)
    page = min(DEEP_PAGE, num_pages or DEEP_PAGE)
    offset = (page - 1) * (per_page or admin_per_page or 100)
    return {"p": min(offset // (admin_per_page or 100) + 1, admin_pages or 1)}


def _cursor_before(client, page: int, per_page: int) -> str:
    """The cursor the register's "next" link carries to reach ``page``: the last row of the
    page before it (found here untimed, as a user reaches it by paging)."""
    from network.models import User
    from residents.models import Person

    user = User.objects.get(pk=client.session.get("_auth_user_id"))
    last = (
        Person.objects.visible_to(user)
        .filter(status="active", archived_at__isnull=True, household__archived_at__isnull=True)
        .order_by("household_id", "id")
        .values_list("household_id", "id")[(page - 1) * per_page - 1]
    )
    return f"{last[0]}.{last[1]}"


# ---------------------------------------------------------------------------- parent: report

NAME = SECTION.removeprefix("## ")


def targets(small: dict | None, large: dict) -> list[common.Target]:
    """Each page: its time against the admin's, and its query count at both sizes."""
    found = []
    small_rows = {r["key"]: r for r in small["pages"]} if small else {}
    for row in large["pages"]:
        if row["target"] is not None:
            found.append(
                common.at_most(
                    NAME, f"{row['label']}: time / admin's", row.get("ratio"), row["target"]
                )
            )
    for row in large["pages"]:
        counts = []
        for data, source in ((small, small_rows.get(row["key"])), (large, row)):
            if data is None:
                continue
            mine = [
                (source or {"users": {}})["users"].get(who, {}).get("queries")
                for who in ("bureau", "community")
            ]
            counts.append(None if None in mine else max(mine))
        sizes = [f"{d['persons']:,}" for d in (small, large) if d is not None]
        found.append(
            common.query_target(NAME, row["label"], counts, [f"{s} persons" for s in sizes])
        )
    return found


def report(small: dict | None, large: dict, *, argv: list[str], found: list) -> str:
    machine = _machine()
    lines = [
        SECTION,
        "",
        f"Measured {common.machine_line()}; PostgreSQL {large['server_version']}, Django test "
        "client in-process (no network, DEBUG off, persistent database connection). Each page: "
        f"{large['warmup']} warm-up requests, then the median of {large['repeat']}, ours and the "
        'admin\'s requested in turn. "Ours" is the register (`residents:person-list`, '
        f"`residents:household-detail`) for the district bureau user `{BUREAU_USER}` (the whole "
        f'district) and the community user `{COMMUNITY_USER}` (one community); "admin" is '
        "Django's stock changelist or change page for the same question, as a superuser. "
        "Targets: time at most half the admin's for the lists and the household page, a quarter "
        f"for searches and the deep page; at most {common.QUERY_LIMIT} SQL queries a page, the "
        "same at both sizes (the larger of the two users' counts is judged).",
        "",
        *common.command_block("registry", argv),
        "",
    ]
    generated = large.get("generated_seconds")
    lines.append(
        f"Data: the demo district with {large['households']:,} households and "
        f"{large['persons']:,} persons (`residents/demo.py`), "
        + (
            f"generated in {generated:.0f} s by bulk inserts."
            if generated is not None
            else "reused from an earlier run (generation: `--regenerate` to time it)."
        )
    )
    lines.append(
        "Load average (1 min) when the measurement started and ended: "
        f"{large['load'][0]:.1f} and {large['load'][1]:.1f} on {machine['cores']} cores."
    )
    if large["skipped"]:
        lines.append(f"Not measured, the URL does not resolve yet: {', '.join(large['skipped'])}.")
    lines += ["", *common.targets_lines(found)]
    lines += [
        "",
        f"### Time at {large['persons']:,} persons",
        "",
        "Median ms of the whole request (in brackets: median ms spent in SQL, of 3 requests).",
        "",
        "| page | ours, bureau | ours, community | admin | ours/admin | target | met |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in large["pages"]:
        users = row["users"]
        ratio = row.get("ratio")
        target = row["target"]
        met = "—" if ratio is None or target is None else ("yes" if ratio <= target else "**no**")
        lines.append(
            f"| {row['label']} | {_cell(users.get('bureau'), 'median_ms')} "
            f"| {_cell(users.get('community'), 'median_ms')} "
            f"| {_cell(users.get('admin'), 'median_ms')} "
            f"| {'—' if ratio is None else f'{ratio:.2f}'} "
            f"| {'—' if target is None else f'≤ {target:g}'} | {met} |"
        )
    lines += ["", "### SQL queries per page", ""]
    sizes = [large] if small is None else [small, large]
    header = " | ".join(
        f"{who} {d['persons']:,}"
        for who in ("ours bureau", "ours community", "admin")
        for d in sizes
    )
    lines += [
        f"| page | {header} | same at every size |",
        "|---|" + "---:|" * (3 * len(sizes)) + "---|",
    ]
    small_rows = {r["key"]: r for r in small["pages"]} if small else {}
    for row in large["pages"]:
        cells, same = [], True
        for who in ("bureau", "community", "admin"):
            counts = []
            for data in sizes:
                source = row if data is large else small_rows.get(row["key"], {"users": {}})
                result = source["users"].get(who)
                cells.append(_cell(result, "queries"))
                counts.append(result.get("queries") if result else None)
            if None not in counts and len(set(counts)) > 1:
                same = False
        lines.append(f"| {row['label']} | {' | '.join(cells)} | {'yes' if same else '**no**'} |")
    lines += ["", f"URLs requested (at {large['persons']:,} persons):", ""]
    for row in large["pages"]:
        for who, result in row["users"].items():
            lines.append(f"- {row['label']}, {who}: `{unquote(result['url'])}`")
    lines += missed_sections(large["pages"])
    return "\n".join(lines) + "\n"


_cell = common.cell


def missed_sections(pages: list[dict]) -> list[str]:
    """A section for each page that missed its time target: where its time goes and its
    slowest query (the registry and outreach reports share it)."""
    lines: list[str] = []
    for row in [r for r in pages if r.get("explain")]:
        bureau = row["users"]["bureau"]
        where = (
            " — the time goes to Python (view and templates), not to the database."
            if bureau["sql_ms"] < bureau["median_ms"] / 4
            else "."
        )
        lines += [
            "",
            f"### Missed: {row['label']} (ours/admin {row['ratio']:.2f})",
            "",
            f"Bureau user: {bureau['median_ms']:.1f} ms a request, of which "
            f"{bureau['sql_ms']:.1f} ms in {bureau['queries']} SQL queries{where}",
            "",
            *explained(row["explain"]),
        ]
    return lines


def _child(args, url: str, households: int, persons: int) -> dict:
    argv = ["--database-url", url, "--households", str(households), "--persons", str(persons)]
    argv += ["--repeat", str(args.repeat), "--warmup", str(args.warmup), "--seed", str(args.seed)]
    argv += ["--regenerate"] if args.regenerate else []
    return common.run_child(
        "registry", argv, f"at {persons:,} persons in {datagen.database_name(url)}"
    )


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench registry", description=__doc__)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--households", type=int, default=40_000)
    parser.add_argument("--database-url", default=datagen.DEFAULT_URL)
    parser.add_argument("--small-persons", type=int, default=1_000)
    parser.add_argument("--small-households", type=int, default=400)
    parser.add_argument(
        "--small-database-url",
        help="database of the small pass (default: the same server, <name>_small)",
    )
    parser.add_argument("--no-small", action="store_true", help="skip the small pass")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seed", type=int, default=datagen.SEED)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the data set")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--no-write", action="store_true", help="print, do not write the docs")
    parser.add_argument("--measure-into", help=argparse.SUPPRESS)  # the child's JSON file
    return parser.parse_args(argv)


def main(argv) -> int:
    args = parse(argv)
    if args.measure_into:
        common.write_json(args.measure_into, measure(args))
        return 0
    small_url = args.small_database_url or datagen.small_url(args.database_url)
    small = None
    if not args.no_small:
        datagen.ensure_postgres(small_url)
        small = _child(args, small_url, args.small_households, args.small_persons)
    datagen.ensure_postgres(args.database_url)
    large = _child(args, args.database_url, args.households, args.persons)
    found = targets(small, large)
    text = report(small, large, argv=argv, found=found)
    print(text)
    common.record(found)
    if not args.no_write:
        write_section(text, args.output, SECTION)
    return 0
