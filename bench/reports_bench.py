"""The district's annual summary against hand-written SQL, on the same data in the same run.

``python -m bench reports`` computes, on PostgreSQL, the district's summary for the last full
year exactly as the summary page does (``reports.summary.summary_table``: every figure of the
catalogue, the sub-districts as rows and the district as the total, beside it the previous
year and the same period a year earlier), and the same figures with the hand-written SQL of
``bench/reports_sql.py``. Every figure is asserted equal between the two, for the district and
each row, in all three periods: a mismatch fails the run (exit 1, nothing written). A figure of
the catalogue without hand-written SQL is reported as "not covered". Then ``--repeat`` rounds,
ours and the SQL one after the other (the order alternating), and the medians.

The data set is the outreach benchmark's (the register and 1,000,000 log rows, in its
databases ``tongxin_bench_outreach`` and ``_small``, reused when present), plus what the
summary needs and the outreach benchmark lacks, written with COPY and marked with a comment on
the ``services_carduse`` table so that a rerun reuses it: yearly population rows, honours
(model families, featured buildings) and the service-card scheme (merchants, agreements,
consents, cards, card uses). Two passes, each in a child process with its own database: a
small one for the query counts and the full size for the counts and the timings. Writes the
section "Annual summary" of docs/performance.md. See bench/README.md.
"""

import argparse
import datetime
import os
import random
import re
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

from bench import common, datagen, outreach_bench
from bench.common import explain as _explain
from bench.common import machine as _machine
from bench.common import write_section

ROOT = datagen.ROOT
OUTPUT = ROOT / "docs" / "performance.md"
SECTION = "## Annual summary"
SERVICES_SECTION = "## Service pages"
# The service-card scheme's lists, each beside the admin's changelist of its model.
SERVICE_LISTS = [
    ("merchant_list", "Merchant list", "services:merchant-list", "services.Merchant"),
    ("agreement_list", "Agreement list", "services:agreement-list", "services.Agreement"),
    ("consent_list", "Consent list", "services:consent-list", "services.Consent"),
    ("card_list", "Card list", "services:card-list", "services.ServiceCard"),
    ("use_list", "Card use list", "services:use-list", "services.CardUse"),
]
DEFAULT_URL = outreach_bench.DEFAULT_URL  # the outreach benchmark's data set
DISTRICT_CODE = "320508000000"
TARGET = 2.0  # ours at most twice the hand-written SQL's time
SHANGHAI = outreach_bench.SHANGHAI
CONSENT_SHARE = 0.05  # persons who consent to partner merchants (and most get a card)
HONOUR_SHARE = 0.02  # households honoured by the benchmark, of each kind
BENCH_AWARDER = "姑苏区民族团结进步创建工作领导小组"  # the honours this benchmark adds
BENCH_SOURCE = "第七次人口普查及年度抽样（基准测试）"  # the population rows it adds
BENCH_BUDGET_NOTE = "年度民族工作经费（基准测试）"  # the budgets it adds
TOP_FIGURES = 12  # figures listed in "where our time goes"


# ---------------------------------------------------------------------------- the data set


def _describe(args) -> str:
    return (
        f"bench reports: budgets=1 merchants={args.merchants} card_uses={args.card_uses} "
        f"consent_share={CONSENT_SHARE} honour_share={HONOUR_SHARE} seed={args.seed}"
    )


def _marker() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description('services_carduse'::regclass, 'pg_class')")
        return cursor.fetchone()[0] or ""


def extras_counts() -> dict:
    """What this benchmark adds, counted."""
    from network.models import AreaPopulation
    from reports.models import Budget
    from residents.models import Honour, HonourKind
    from services.models import Agreement, CardUse, Consent, Merchant, ServiceCard

    honours = Honour.objects.filter(awarded_by=BENCH_AWARDER)
    return {
        "population_rows": AreaPopulation.objects.filter(source=BENCH_SOURCE).count(),
        "budgets": Budget.objects.filter(note=BENCH_BUDGET_NOTE).count(),
        "model_families": honours.filter(kind=HonourKind.MODEL_FAMILY).count(),
        "featured_buildings": honours.filter(kind=HonourKind.FEATURED_BUILDING).count(),
        "merchants": Merchant.objects.count(),
        "agreements": Agreement.objects.count(),
        "consents": Consent.objects.count(),
        "cards": ServiceCard.objects.count(),
        "card_uses": CardUse.objects.count(),
    }


def _wipe_extras(url: str) -> None:
    """Remove what this benchmark adds (in a benchmark database only): its population rows
    and honours, and every row of the services tables."""
    from django.apps import apps
    from django.db import connection

    if not datagen.database_name(url).startswith("tongxin_bench"):
        raise SystemExit(f"Refusing to empty {datagen.database_name(url)}: not a bench database.")
    tables = [
        model._meta.db_table
        for model in apps.get_app_config("services").get_models(include_auto_created=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cursor.execute("DELETE FROM residents_honour WHERE awarded_by = %s", [BENCH_AWARDER])
        cursor.execute("DELETE FROM network_areapopulation WHERE source = %s", [BENCH_SOURCE])
        cursor.execute("DELETE FROM reports_budget WHERE note = %s", [BENCH_BUDGET_NOTE])


def ensure_extras(args) -> float | None:
    """Add the population rows, honours and service-card scheme unless this benchmark's are
    there (its marker, and as many card uses and merchants as it says); return the seconds
    it took."""
    from django.db import connection

    counts = extras_counts()
    if (
        not args.regenerate
        and _marker() == _describe(args)
        and counts["merchants"] == args.merchants
        and counts["card_uses"] == args.card_uses
        and counts["featured_buildings"] > 0
        and counts["budgets"] > 0
    ):
        return None
    _wipe_extras(args.database_url)
    started = time.perf_counter()
    _ExtrasWriter(args).write()
    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON TABLE services_carduse IS '{_describe(args)}'")
        cursor.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - started
    print(f"Reports' data: {extras_counts()} ({seconds:.1f} s)", file=sys.stderr)
    return seconds


_copy = outreach_bench._copy


class _ExtrasWriter:
    """The population rows, honours and service-card scheme, with COPY, deterministic for a
    seed on a given day."""

    def __init__(self, args):
        from django.utils import timezone

        self.args = args
        self.rng = random.Random(args.seed + 6)
        self.today = timezone.localdate()
        self.start = self.today - datetime.timedelta(days=365 * args.years)

    def key(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def day_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        return first + datetime.timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def moment(self, day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(17, 30), tzinfo=SHANGHAI)

    def write(self):
        from network.models import Area, AreaLevel

        district = Area.objects.get(code=DISTRICT_CODE)
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
        self.population()
        self.dibao_standards()
        self.budgets()
        self.honours()
        self.services()

    # -------------------------------------------------------------- population

    def population(self):
        """A row per community and year of the logs where there is none (the demo has 2024
        and 2025); the last sub-district also has rows of its own, which the district's
        figure takes instead of its communities' (``population_by_area``)."""
        from network.models import AreaPopulation

        rng = self.rng
        have = set(AreaPopulation.objects.values_list("area_id", "year"))
        rows = []
        for sub in self.subdistricts:
            for year in range(self.start.year, self.today.year + 1):
                for area in self.communities[sub.pk]:
                    if (area.pk, year) not in have:
                        rows.append((area.pk, year, rng.randint(9000, 16000)))
                if sub is self.subdistricts[-1] and (sub.pk, year) not in have:
                    rows.append((sub.pk, year, rng.randint(40000, 60000)))
        _copy(
            AreaPopulation,
            (
                {
                    "area_id": area_id,
                    "year": year,
                    "registered": registered,
                    "floating": rng.randint(800, 4000) * (4 if registered > 30000 else 1),
                    "source": BENCH_SOURCE,
                }
                for area_id, year, registered in rows
            ),
            ["area_id", "year", "registered", "floating", "source"],
        )

    # -------------------------------------------------------------- dibao standards

    def dibao_standards(self):
        """The district's dibao standard for each year of the logs where it has none (the
        demo has 2025 and 2026), and a sub-district's own, higher one (the nearest standard up
        the tree applies). Only missing (area, year) rows are added, so they are never
        removed."""
        from residents.models import DibaoStandard

        have = set(DibaoStandard.objects.values_list("area_id", "year"))
        district = next(iter(self.subdistricts)).parent_id
        rows = []
        for year in range(self.start.year, self.today.year + 1):
            standard = Decimal(1095) - 25 * max(0, 2025 - year)
            if (district, year) not in have:
                rows.append((district, year, standard, Decimal("0.200")))
            sub = self.subdistricts[1].pk
            if (sub, year) not in have:
                rows.append((sub, year, standard + 30, Decimal("0.250")))
        _copy(
            DibaoStandard,
            (
                {"area_id": a, "year": y, "monthly_standard": m, "supplement_rate": r}
                for a, y, m, r in rows
            ),
            ["area_id", "year", "monthly_standard", "supplement_rate"],
        )

    # -------------------------------------------------------------- budgets

    def budgets(self):
        """A budget (经费) for each year of the logs: the district's own, each sub-district's
        but the last, whose communities have theirs instead (the district's figure takes its
        own row, the last sub-district's adds up its communities'). Only where none is set."""
        from reports.models import Budget

        rng = self.rng
        have = set(Budget.objects.values_list("area_id", "year"))
        district = next(iter(self.subdistricts)).parent_id
        rows = []
        for year in range(self.start.year, self.today.year + 1):
            wanted = [(district, 500_000)]
            wanted += [(sub.pk, 150_000) for sub in self.subdistricts[:-1]]
            wanted += [(c.pk, 20_000) for c in self.communities[self.subdistricts[-1].pk]]
            for area_id, about in wanted:
                if (area_id, year) not in have:
                    amount = Decimal(about + rng.randrange(-about // 5, about // 5, 100))
                    rows.append((area_id, year, amount))
        _copy(
            Budget,
            ({"area_id": a, "year": y, "amount": m, "note": BENCH_BUDGET_NOTE} for a, y, m in rows),
            ["area_id", "year", "amount", "note"],
        )

    # -------------------------------------------------------------- honours

    def honours(self):
        """Model families and featured buildings on about ``HONOUR_SHARE`` of the households
        each, awarded in one or two years of the logs."""
        from residents.models import Honour, HonourKind, Household

        rng = self.rng
        have = set(Honour.objects.values_list("household_id", "year", "kind"))
        households = list(
            Household.objects.filter(archived_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        years = list(range(self.start.year, self.today.year + 1))
        rows = []
        kinds = {
            HonourKind.MODEL_FAMILY: "民族团结进步文明家庭",
            HonourKind.FEATURED_BUILDING: "民族团结特色楼组",
        }
        for kind, title in kinds.items():
            chosen = rng.sample(households, int(len(households) * HONOUR_SHARE))
            for household_id in sorted(chosen):
                for year in rng.sample(years, rng.choice((1, 1, 2))):
                    if (household_id, year, kind) in have:
                        continue
                    have.add((household_id, year, kind))
                    rows.append(
                        {
                            "household_id": household_id,
                            "year": year,
                            "kind": kind,
                            "title": title,
                            "awarded_by": BENCH_AWARDER,
                        }
                    )
        _copy(Honour, rows, ["household_id", "year", "kind", "title", "awarded_by"])

    # -------------------------------------------------------------- services

    def services(self):
        self.merchants()
        self.cards()
        self.uses()

    def merchants(self):
        """``--merchants`` merchants over the sub-districts, after services/demo.py's trades:
        most managed by the street office (some serving the whole sub-district, others the
        communities near them), the rest by a community; each with its earlier agreement
        (expired) and its current one; some lapsed, terminated, draft renewals; a few
        archived."""
        from services import demo as services_demo
        from services.models import (
            Agreement,
            AgreementItem,
            AgreementStatus,
            BenefitKind,
            Merchant,
        )

        rng, today = self.rng, self.today
        merchants, served, agreements, items = [], [], [], []
        self.places = []  # (merchant id, [(agreement row, [item rows])])
        self.serving: dict[int, list[int]] = {}  # community → indexes of self.places
        count = self.args.merchants
        for n in range(count):
            sub = self.subdistricts[n % len(self.subdistricts)]
            communities = self.communities[sub.pk]
            specs = services_demo.MERCHANTS.get(sub.code) or next(
                iter(services_demo.MERCHANTS.values())
            )
            spec = specs[(n // len(self.subdistricts)) % len(specs)]
            branch = n // (len(self.subdistricts) * len(specs)) + 1
            own = rng.choice(communities) if rng.random() < 0.35 else None
            merchant_id = n + 1
            merchants.append(
                {
                    "id": merchant_id,
                    "archived_at": self.moment(today) if rng.random() < 0.02 else None,
                    "created_at": self.moment(self.start),
                    "updated_at": self.moment(self.start),
                    "area_id": own.pk if own else sub.pk,
                    "name": f"{spec.name}（{branch}号店）",
                    "category": spec.category,
                    "address": f"{spec.address.rstrip('号')}-{branch}号",
                    "contact_person": spec.contact,
                    "phone": f"0512-6{rng.randrange(10**6, 10**7)}",
                    "licence_number": f"92320508MA{merchant_id:08d}",
                    "note": "",
                    "submission_key": self.key(),
                }
            )
            if own:
                near = [own] + ([rng.choice(communities)] if rng.random() < 0.3 else [])
            elif rng.random() < 0.3:
                near = [sub]  # the whole street
            else:
                near = rng.sample(communities, max(1, len(communities) // 2))
            for area in {a.pk: a for a in near}.values():
                served.append({"merchant_id": merchant_id, "area_id": area.pk})
                for community in communities if area.pk == sub.pk else [area]:
                    self.serving.setdefault(community.pk, []).append(n)
            deals = []
            current_from = today - datetime.timedelta(days=rng.randint(150, 900))
            first_from = min(self.start, current_from) - datetime.timedelta(
                days=rng.randint(100, 400)
            )
            roll = rng.random()
            if roll < 0.06:  # lapsed: its only agreement in force ended
                ran = rng.randint(60, max(60, (today - current_from).days - 20))
                current_to = current_from + datetime.timedelta(days=ran)
            else:
                current_to = today + datetime.timedelta(days=rng.randint(30, 800))
            deals.append((first_from, current_from - datetime.timedelta(days=1), "signed"))
            deals.append((current_from, current_to, "terminated" if roll > 0.95 else "signed"))
            if 0.90 < roll <= 0.95:
                deals.append(
                    (
                        current_to + datetime.timedelta(days=1),
                        current_to + datetime.timedelta(days=730),
                        "draft",
                    )
                )
            place = []
            for number, (valid_from, valid_to, status) in enumerate(deals, start=1):
                agreement_id = len(agreements) + 1
                terminated = None
                if status == "terminated":
                    terminated = self.day_between(valid_from, min(valid_to, today))
                    valid_to = terminated
                agreements.append(
                    {
                        "id": agreement_id,
                        "archived_at": None,
                        "created_at": self.moment(valid_from),
                        "updated_at": self.moment(valid_from),
                        "merchant_id": merchant_id,
                        "area_id": merchants[-1]["area_id"],
                        "number": ""
                        if status == "draft"
                        else f"{sub.name[:2]}-{valid_from.year}-{merchant_id:03d}{number}",
                        "signed_on": None
                        if status == "draft"
                        else valid_from - datetime.timedelta(days=rng.randint(3, 20)),
                        "valid_from": valid_from,
                        "valid_to": valid_to,
                        "status": {
                            "signed": AgreementStatus.SIGNED,
                            "terminated": AgreementStatus.TERMINATED,
                            "draft": AgreementStatus.DRAFT,
                        }[status],
                        "terminated_on": terminated,
                        "document": "",
                        "note": "",
                        "created_by_id": None,
                        "submission_key": self.key(),
                    }
                )
                offered = []
                for description, kind, amount, usual, conditions in spec.items:
                    item = {
                        "id": len(items) + 1,
                        "agreement_id": agreement_id,
                        "category": spec.category,
                        "description": description,
                        "benefit_kind": kind,
                        "percent_off": Decimal(amount) if kind == BenefitKind.PERCENT_OFF else None,
                        "fixed_price": Decimal(amount) if kind == BenefitKind.FIXED_PRICE else None,
                        "usual_price": Decimal(usual),
                        "conditions": conditions,
                        "is_withdrawn": rng.random() < 0.03,
                    }
                    items.append(item)
                    offered.append(item)
                place.append((agreements[-1], offered))
            self.places.append((merchant_id, merchants[-1], place))
        _copy(Merchant, merchants)
        _copy(Merchant.serves.through, served, ["merchant_id", "area_id"])
        _copy(Agreement, agreements)
        _copy(AgreementItem, items)

    def cards(self):
        """Consents of about ``CONSENT_SHARE`` of the persons (adults on the register), a card
        for most of them, issued over the years of the logs; one card in twelve lost and
        reissued, a few consents withdrawn and their cards revoked, a few consents still
        waiting for a card."""
        from residents.models import Person, PersonStatus
        from services.cards import card_prefix, default_valid_until, with_check_digit
        from services.models import CardScheme, CardStatus, Consent, ServiceCard

        rng, today = self.rng, self.today
        adult = today.replace(year=today.year - 18)
        people = list(
            Person.objects.filter(
                archived_at__isnull=True,
                status=PersonStatus.ACTIVE,
                household__archived_at__isnull=True,
                birth_date__lte=adult,
            )
            .order_by("pk")
            .values_list("pk", "community_id")
        )
        total = Person.objects.count()
        chosen = sorted(rng.sample(people, min(len(people), int(total * CONSENT_SHARE))))
        sub_of = {c.pk: sub for sub in self.subdistricts for c in self.communities[sub.pk]}
        sequence = dict.fromkeys((s.pk for s in self.subdistricts), 0)
        consents, cards = [], []
        self.held = []  # (card row, last day it could be used, holder's community)

        def card(holder_id, community_id, issued, **fields):
            sub = sub_of[community_id]
            sequence[sub.pk] += 1
            prefix = card_prefix(sub)
            row = {
                "id": len(cards) + 1,
                "number": with_check_digit(f"{prefix}{sequence[sub.pk]:06d}"),
                "scheme": CardScheme.SANYOU if sub is self.subdistricts[0] else CardScheme.LINGTONG,
                "holder_id": holder_id,
                "issuing_area_id": sub.pk,
                "issued_on": issued,
                "valid_until": default_valid_until(issued),
                "status": CardStatus.ACTIVE,
                "status_changed_on": None,
                "status_reason": "",
                "replaces_id": None,
                "issued_by_id": None,
                "created_at": self.moment(issued),
                "updated_at": self.moment(issued),
            } | fields
            cards.append(row)
            until = min(row["valid_until"], today)
            if row["status_changed_on"]:
                until = min(until, row["status_changed_on"] - datetime.timedelta(days=1))
            if until >= issued:
                self.held.append((row, until, community_id))
            return row

        for person_id, community_id in chosen:
            community = community_id
            if community not in sub_of:
                continue
            given = self.day_between(self.start, today - datetime.timedelta(days=5))
            consent = {
                "person_id": person_id,
                "given_on": given,
                "form_reference": f"{card_prefix(sub_of[community])}-{len(consents) + 1:05d}",
                "withdrawn_on": None,
                "recorded_by_id": None,
                "created_at": self.moment(given),
            }
            consents.append(consent)
            roll = rng.random()
            if roll < 0.04:
                continue  # waiting for a card
            issued = min(today, given + datetime.timedelta(days=rng.randint(0, 14)))
            if roll < 0.06 and issued + datetime.timedelta(days=10) < today:  # withdrawn
                withdrawn = self.day_between(issued + datetime.timedelta(days=5), today)
                consent["withdrawn_on"] = withdrawn
                card(
                    person_id,
                    community,
                    issued,
                    status=CardStatus.REVOKED,
                    status_changed_on=withdrawn,
                    status_reason="本人撤回知情同意",
                )
            elif roll < 0.14 and issued + datetime.timedelta(days=40) < today:  # lost
                last = min(today, default_valid_until(issued))
                reported = self.day_between(issued + datetime.timedelta(days=30), last)
                old = card(
                    person_id,
                    community,
                    issued,
                    status=CardStatus.LOST,
                    status_changed_on=reported,
                    status_reason="持卡人报告遗失",
                )
                card(person_id, community, reported, replaces_id=old["id"])
            else:
                card(person_id, community, issued)
        _copy(Consent, ({"id": n, **row} for n, row in enumerate(consents, start=1)))
        _copy(ServiceCard, cards)

    def uses(self):
        """``--card-uses`` uses, each on a day its card could be used, at a merchant serving
        the holder's community with an agreement in force that day, of one of its items; two
        in a hundred voided (archived)."""
        from services.models import AgreementItem, AgreementStatus, CardUse, UseChannel

        rng = self.rng
        held = self.held
        weights = [rng.choice((1, 1, 1, 2, 3, 6)) for _ in held]
        rows, attempts, wanted = [], 0, self.args.card_uses
        while held and len(rows) < wanted and attempts < wanted * 30:
            attempts += 1
            card, until, community = rng.choices(held, weights)[0]
            serving = self.serving.get(community)
            if not serving:
                continue
            day = self.day_between(card["issued_on"], until)
            merchant_id, merchant, place = self.places[rng.choice(serving)]
            offers = [
                item
                for agreement, items in place
                if agreement["status"] == AgreementStatus.SIGNED
                and agreement["valid_from"] <= day <= agreement["valid_to"]
                for item in items
            ]
            if not offers:
                continue
            item = rng.choice(offers)
            before = item["usual_price"]
            if before >= Decimal("300"):  # bigger jobs vary with the job
                before = (before * Decimal(rng.choice(("0.6", "0.8", "1", "1.2", "1.5")))).quantize(
                    Decimal("1")
                )
            after = AgreementItem(
                benefit_kind=item["benefit_kind"],
                percent_off=item["percent_off"],
                fixed_price=item["fixed_price"],
            ).price_after(before)
            voided = rng.random() < 0.02
            rows.append(
                {
                    "id": len(rows) + 1,
                    "archived_at": self.moment(day) if voided else None,
                    "created_at": self.moment(day),
                    "updated_at": self.moment(day),
                    "card_id": card["id"],
                    "merchant_id": merchant_id,
                    "item_id": item["id"],
                    "used_on": day,
                    "value_before": before,
                    "value_after": after,
                    "channel": UseChannel.TILL if rng.random() < 0.5 else UseChannel.DESK,
                    "note": "重复登记" if voided else "",
                    "recorded_by_id": None,
                    "submission_key": self.key(),
                }
            )
        _copy(CardUse, rows)


# ---------------------------------------------------------------------------- child: measure


def _table_values(table) -> dict:
    """{(part, key, area pk): value} of a summary table: every figure for the rows in the
    current period, and for the total in the previous period and the year before."""
    found = {}
    for part, computation in (
        ("current", table.current),
        ("previous", table.previous),
        ("year_before", table.year_before),
    ):
        for key, by_area in computation.values.items():
            for area_pk, value in by_area.items():
                found[(part, key, area_pk)] = value
    return found


def _sql_values(result: dict) -> dict:
    return {
        (part, key, area_pk): value
        for part, computation in result.items()
        for key, by_area in computation.items()
        for area_pk, value in by_area.items()
    }


def _same(ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    try:
        return Decimal(str(ours)) == Decimal(str(theirs))
    except ArithmeticError:
        return False


def compare(ours: dict, sql: dict, keys: list[str], covered: set[str], area_names: dict) -> list:
    """The figures that differ: for every covered key, each row area in the current period and
    the total in the previous period and the year before."""
    mismatches = []
    for (part, key, area_pk), value in ours.items():
        if key not in covered:
            continue
        if (part, key, area_pk) not in sql:
            mismatches.append(f"{part} {key} {area_names.get(area_pk)}: ours {value}, SQL missing")
        elif not _same(value, sql[(part, key, area_pk)]):
            mismatches.append(
                f"{part} {key} {area_names.get(area_pk)}: ours {value}, "
                f"SQL {sql[(part, key, area_pk)]}"
            )
    for part, key, area_pk in sql:
        if key in covered and (part, key, area_pk) not in ours:
            mismatches.append(f"{part} {key} {area_names.get(area_pk)}: ours missing")
    return mismatches


def _timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def _captured(fn) -> tuple[object, list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = fn()
    return result, list(captured.captured_queries)


def _query_summary(queries: list[dict]) -> dict:
    slowest = max(queries, key=lambda q: float(q["time"]), default=None)
    return {
        "queries": len(queries),
        "sql_ms": sum(float(q["time"]) for q in queries) * 1000,
        "slowest": {"sql": slowest["sql"], "ms": float(slowest["time"]) * 1000} if slowest else {},
    }


def _main_table(sql: str) -> str:
    """The first table of the outermost FROM (not one of a subquery in the select list)."""
    for match in re.finditer(r'FROM "(\w+)"', sql):
        before = sql[: match.start()]
        if before.count("(") == before.count(")"):
            return match.group(1)
    return "(other)"


def by_table(queries: list[dict]) -> list[dict]:
    """The queries of a run grouped by the first table they read: how many, and their ms."""
    found: dict[str, dict] = {}
    for query in queries:
        table = _main_table(query["sql"])
        row = found.setdefault(table, {"table": table, "queries": 0, "ms": 0.0})
        row["queries"] += 1
        row["ms"] += float(query["time"]) * 1000
    return sorted(found.values(), key=lambda row: -row["ms"])


def per_figure_times(keys, areas, district, period, runs: int = 3) -> list[dict]:
    """Each figure on its own (shares need their parts, so they are left out): the median of
    ``runs`` of the current period for every row and the two comparison periods for the
    total, as ``summary_table`` computes them."""
    from django.core.cache import cache

    from reports import catalogue

    found = []
    for key in keys:
        f = catalogue.figure(key)
        if f.measure == catalogue.SHARE:
            continue
        times, queries = [], 0
        for _ in range(runs):

            def one(key=key):
                cache.clear()  # the compliance figures computed, not read from the cache
                catalogue.compute([key], areas, period)
                catalogue.compute([key], [district], period.previous())
                catalogue.compute([key], [district], period.year_before())

            ms, (_, captured) = _timed(lambda one=one: _captured(one))
            times.append(ms)
            queries = len(captured) - 3  # less the three area-path queries
        found.append({"key": key, "ms": statistics.median(times), "queries": queries})
    found.sort(key=lambda row: -row["ms"])
    return found


def measure_service_lists(args) -> tuple[list, list]:
    """The service-card scheme's list pages for the district bureau user, each beside the
    admin's changelist of its model (as the outreach lists)."""
    from django.test import Client

    from network.models import User

    clients = {"bureau": Client(), "admin": Client()}
    clients["bureau"].force_login(User.objects.get(username=outreach_bench.BUREAU_USER))
    clients["admin"].force_login(User.objects.get(username=outreach_bench.SUPERUSER))
    return outreach_bench.measure_lists(
        clients, SERVICE_LISTS, warmup=args.warmup, repeat=args.repeat
    )


def measure(args) -> dict:
    """Run in a child process: prepare the database, check the figures, time both."""
    datagen.setup_django(args.database_url)
    from django.core.cache import cache
    from django.db import connection
    from django.utils import timezone

    from bench import reports_sql
    from network.models import Area
    from reports import catalogue
    from reports.periods import parse_period
    from reports.summary import child_areas, summary_table

    datagen.migrate()
    datagen.ensure_data(
        args.database_url,
        households=args.households,
        persons=args.persons,
        seed=args.seed,
        regenerate=False,
    )
    regenerate, args.regenerate = args.regenerate, False
    logs_generated = outreach_bench.ensure_logs(args)  # never regenerated from here
    args.regenerate = regenerate
    generated = ensure_extras(args)
    households, persons = datagen.register_size()
    district = Area.objects.get(code=DISTRICT_CODE)
    children = child_areas(district)
    areas = [*children, district]
    names = {a.pk: a.name for a in areas}
    period = parse_period(str(timezone.localdate().year - 1))  # the last full year
    keys = list(catalogue.catalogue())
    covered = [k for k in keys if k in reports_sql.covered_keys()]
    missing = [k for k in keys if k not in reports_sql.covered_keys()]
    extra = sorted(set(reports_sql.covered_keys()) - set(keys))  # SQL for a key now gone

    def ours():
        return summary_table(district, period)

    def ours_covered():
        return summary_table(district, period, keys=covered)

    def sql():
        return reports_sql.summary(connection, district.pk, period, keys=covered)

    load_before = os.getloadavg()[0]
    for _ in range(args.warmup):
        cache.clear()
        ours()
        sql()
    cache.clear()
    table, cold_queries = _captured(ours)  # every figure computed
    _, warm_queries = _captured(ours)  # the compliance figures from the cache
    sql_result, sql_queries = _captured(sql)
    mismatches = compare(_table_values(table), _sql_values(sql_result), keys, set(covered), names)
    for line in mismatches:
        print(f"MISMATCH {line}", file=sys.stderr)
    # name → (what to do before, untimed; what is timed)
    timed = {
        "ours": (cache.clear, ours),
        "ours_warm": (None, ours),
        "sql": (None, sql),
    }
    covered_queries = None
    if missing:
        cache.clear()
        _, covered_queries = _captured(ours_covered)
        timed["ours_covered"] = (cache.clear, ours_covered)
    times = {name: [] for name in timed}
    for round_ in range(args.repeat):
        names_in_turn = list(timed) if round_ % 2 == 0 else list(reversed(timed))
        for name in names_in_turn:
            before, fn = timed[name]
            if before:
                before()
            ms, _ = _timed(fn)
            times[name].append(ms)
    medians = {name: statistics.median(values) for name, values in times.items()}
    figures = per_figure_times(keys, areas, district, period) if args.per_figure else []
    groups = reports_sql.time_groups(connection, district.pk, period, covered, runs=3)
    judged = "ours_covered" if missing else "ours"
    ratio = medians[judged] / medians["sql"] if medians["sql"] else None
    ours_summary = _query_summary(cold_queries)
    explain = None
    if ratio is not None and ratio > TARGET and ours_summary["slowest"]:
        explain = {
            "sql": ours_summary["slowest"]["sql"],
            "plan": _explain(ours_summary["slowest"]["sql"]),
        }
    version = common.server_version()
    log_counts = outreach_bench.log_counts()
    service_pages, service_skipped = measure_service_lists(args)
    return {
        "service_pages": service_pages,
        "service_skipped": service_skipped,
        "database": datagen.database_name(args.database_url),
        "server_version": str(version),
        "households": households,
        "persons": persons,
        "logs": log_counts,
        "log_rows": sum(log_counts.values()),
        "extras": extras_counts(),
        "generated_seconds": generated,
        "logs_generated_seconds": logs_generated,
        "period": period.key,
        "district": district.name,
        "rows": [a.name for a in children],
        "keys": keys,
        "covered": covered,
        "not_covered": missing,
        "sql_without_figure": extra,
        "mismatches": mismatches,
        "compared": sum(1 for k in _table_values(table) if k[1] in covered),
        "warmup": args.warmup,
        "repeat": args.repeat,
        "medians": medians,
        "min": {name: min(values) for name, values in times.items()},
        "ratio": ratio,
        "judged": judged,
        "ours_queries": ours_summary,
        "ours_by_table": by_table(cold_queries),
        "ours_warm_queries": _query_summary(warm_queries),
        "ours_covered_queries": len(covered_queries) if covered_queries is not None else None,
        "sql_queries": _query_summary(sql_queries),
        "figures": figures,
        "groups": groups,
        "explain": explain,
        "load": [load_before, os.getloadavg()[0]],
    }


# ---------------------------------------------------------------------------- parent: report


def _ms(value: float) -> str:
    return f"{value:,.1f}"


def _list(keys) -> str:
    return ", ".join(f"`{k}`" for k in keys)


NAME = SECTION.removeprefix("## ")
SERVICES_NAME = SERVICES_SECTION.removeprefix("## ")


def targets(small: dict | None, large: dict) -> list[common.Target]:
    """The summary within twice its SQL's time (cold), and its query count the same at both
    sizes (the page's count is judged by the registry's limit only for lists and details)."""
    judged = "ours, covered figures" if large["judged"] != "ours" else "ours"
    found = [
        common.at_most(
            NAME, f"Annual summary ({judged}, cold): time / SQL's", large["ratio"], TARGET
        )
    ]
    sizes = [d for d in (small, large) if d is not None]
    counts = [d["ours_queries"]["queries"] for d in sizes]
    same = len(set(counts)) == 1
    found.append(
        common.Target(
            NAME,
            "Annual summary: SQL queries",
            " / ".join(str(c) for c in counts),
            "same at " + " and ".join(f"{d['persons']:,} persons" for d in sizes),
            same if len(sizes) > 1 else None,
            "" if same else "the count changes with the size",
        )
    )
    return found


def service_targets(small: dict | None, large: dict) -> list[common.Target]:
    found = []
    for row in large.get("service_pages", []):
        if row["target"] is not None:
            found.append(
                common.at_most(
                    SERVICES_NAME, f"{row['label']}: time / admin's", row["ratio"], row["target"]
                )
            )
    small_rows = {r["key"]: r for r in (small or {}).get("service_pages", [])}
    sizes = [f"{d['persons']:,} persons" for d in (small, large) if d is not None]
    for row in large.get("service_pages", []):
        counts = []
        for data, source in ((small, small_rows.get(row["key"])), (large, row)):
            if data is not None:
                counts.append((source or {}).get("users", {}).get("bureau", {}).get("queries"))
        found.append(common.query_target(SERVICES_NAME, row["label"], counts, sizes))
    return found


def services_report(small: dict | None, large: dict, *, argv: list[str], found: list) -> str:
    """The section "Service pages": the service-card scheme's lists against the admin."""
    extras = large["extras"]
    lines = [
        SERVICES_SECTION,
        "",
        f"Measured {common.machine_line()}; PostgreSQL {large['server_version']}, by the "
        "reports benchmark on its data set (the service-card scheme it adds: "
        f"{extras['merchants']:,} merchants, {extras['agreements']:,} agreements, "
        f"{extras['consents']:,} consents, {extras['cards']:,} cards, {extras['card_uses']:,} "
        "card uses), Django test client in-process. Each list for the district bureau user "
        f"`{outreach_bench.BUREAU_USER}` beside the admin's changelist of its model as the "
        f"superuser, set (in the benchmark's process only) to as many rows a page as ours; "
        f"{large['warmup']} warm-up requests, then the median of {large['repeat']}, in turn. "
        f"Targets: time at most half the admin's; at most {common.QUERY_LIMIT} SQL queries, the "
        "same at both sizes.",
        "",
        *common.command_block("reports", argv),
        "",
    ]
    if large.get("service_skipped"):
        lines.append(
            f"Not measured, the URL does not resolve: {', '.join(large['service_skipped'])}."
        )
        lines.append("")
    lines += [*common.targets_lines(found), ""]
    lines += [
        "| page | ours, bureau | admin | ours/admin | queries (ours, admin) |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in large.get("service_pages", []):
        users, ratio = row["users"], row["ratio"]
        label = row["label"] + (f" ({row['per_page']} rows a page)" if row.get("per_page") else "")
        lines.append(
            f"| {label} | {common.cell(users.get('bureau'), 'median_ms')} "
            f"| {common.cell(users.get('admin'), 'median_ms')} "
            f"| {'—' if ratio is None else f'{ratio:.2f}'} "
            f"| {common.cell(users.get('bureau'), 'queries')}, "
            f"{common.cell(users.get('admin'), 'queries')} |"
        )
    lines += ["", "Median ms of the whole request (in brackets: ms in SQL, median of 3)."]
    from bench.registry_bench import missed_sections

    lines += missed_sections(large.get("service_pages", []))
    return "\n".join(lines) + "\n"


def report(small: dict | None, large: dict, *, argv: list[str], found: list) -> str:
    machine = _machine()
    logs, extras = large["logs"], large["extras"]
    medians, mins = large["medians"], large["min"]
    ratio, judged = large["ratio"], large["judged"]
    covered, missing = large["covered"], large["not_covered"]
    met = ratio is not None and ratio <= TARGET
    lines = [
        SECTION,
        "",
        f"Measured {common.machine_line()}; PostgreSQL {large['server_version']}, "
        "in-process (no HTTP), persistent database connection, DEBUG off. "
        f"The summary of {large['district']} for {large['period']} (the last full year) exactly "
        "as the summary page computes it, `reports.summary.summary_table(district, "
        f'parse_period("{large["period"]}"))`: every figure of the catalogue '
        f"({len(large['keys'])}) for the {len(large['rows'])} sub-districts as rows and the "
        "district as the total, and for the district in the previous year and the same period a "
        "year earlier; next to the hand-written SQL of `bench/reports_sql.py`, which computes "
        "the same figures with one statement per group of figures, each reading its tables once "
        f"for all the rows. {large['warmup']} warm-up rounds, then the median of "
        f"{large['repeat']} rounds in which ours and the SQL run one after the other (the order "
        "alternating each round), so a busy machine slows both alike. Targets: ours (cold) "
        f"at most {TARGET:g}× the SQL's time; the same number of queries at both sizes.",
        "",
        *common.command_block("reports", argv),
        "",
    ]
    generated = large.get("generated_seconds")
    lines.append(
        f"Data: the outreach benchmark's data set (`bench/outreach_bench.py`, reused): "
        f"{large['households']:,} households and {large['persons']:,} persons, "
        f"{large['log_rows']:,} log rows over five years ending today ({logs['visit']:,} visits, "
        f"{logs['followup']:,} follow-ups, {logs['assistance']:,} assistance, "
        f"{logs['meeting']:,} meetings, {logs['consultation']:,} consultations); and, added by "
        f"this benchmark with COPY, {extras['population_rows']:,} yearly population rows (and "
        f"dibao standards for every year), {extras.get('budgets', 0):,} yearly budgets, "
        f"{extras['model_families']:,} model-family and "
        f"{extras['featured_buildings']:,} featured-building honours, "
        f"{extras['merchants']:,} merchants with {extras['agreements']:,} agreements, "
        f"{extras['consents']:,} consents, {extras['cards']:,} cards and "
        f"{extras['card_uses']:,} card uses; "
        + (
            f"added in {generated:.0f} s."
            if generated is not None
            else "reused from an earlier run (`--regenerate` to time it)."
        )
    )
    lines.append(
        "Load average (1 min) when the measurement started and ended: "
        f"{large['load'][0]:.1f} and {large['load'][1]:.1f} on {machine['cores']} cores."
    )
    small_check = (
        f"; at the small size {small['compared']:,} compared, {len(small['mismatches'])} differ"
        if small
        else ""
    )
    lines.append(
        f"**Every figure checked equal**: {large['compared']:,} values compared (each covered "
        "figure for every row this year, and for the district in the two earlier periods), "
        f"{len(large['mismatches'])} differ{small_check}."
    )
    if missing:
        lines.append(
            f"**Not covered** by the hand-written SQL ({len(missing)} of {len(large['keys'])}): "
            f"{_list(missing)}. Ours is timed with them (the page) and without them (judged "
            "against the SQL)."
        )
    else:
        lines.append(
            f"All {len(covered)} figures of the catalogue are covered by the hand-written SQL."
        )
    lines += ["", *common.targets_lines(found)]
    lines += [
        "",
        f"### Time at {large['log_rows']:,} log rows and {large['persons']:,} persons",
        "",
        "| computation | median ms | min ms | SQL queries | ms in SQL (one run) |",
        "|---|---:|---:|---:|---:|",
        f"| ours, `summary_table`, cold (every figure computed) | {_ms(medians['ours'])} "
        f"| {_ms(mins['ours'])} | {large['ours_queries']['queries']} "
        f"| {_ms(large['ours_queries']['sql_ms'])} |",
        f"| ours, `summary_table`, warm (compliance figures cached) | "
        f"{_ms(medians['ours_warm'])} | {_ms(mins['ours_warm'])} "
        f"| {large['ours_warm_queries']['queries']} "
        f"| {_ms(large['ours_warm_queries']['sql_ms'])} |",
    ]
    if "ours_covered" in medians:
        lines.append(
            f"| ours, cold, the {len(covered)} covered figures | {_ms(medians['ours_covered'])} "
            f"| {_ms(mins['ours_covered'])} | {large['ours_covered_queries']} | — |"
        )
    lines += [
        f"| hand-written SQL ({len(covered)} figures) | {_ms(medians['sql'])} "
        f"| {_ms(mins['sql'])} | {large['sql_queries']['queries']} "
        f"| {_ms(large['sql_queries']['sql_ms'])} |",
        "",
        (
            f"Ours (cold{', covered figures' if judged != 'ours' else ''}) / SQL: "
            f"**{ratio:.2f}**; target ≤ {TARGET:g}: **{'met' if met else 'missed'}**. "
            f"Warm / SQL: {medians['ours_warm'] / medians['sql']:.2f}."
            if ratio is not None
            else "Ours / SQL: —"
        ),
        "",
        "Cold is judged: the figures of the obligations (meetings due, festival visits) are "
        "cached under the version of the outreach data (`outreach/compliance_cache.py`), so a "
        "summary requested again before anything changes is the warm line, but the first one "
        "after any visit or meeting is recorded computes everything, as the SQL always does. "
        "Django's cache is emptied before each cold run, outside the timed part.",
    ]
    lines += ["", "### SQL queries", ""]
    sizes = [large] if small is None else [small, large]
    header = " | ".join(f"{d['log_rows']:,} log rows, {d['persons']:,} persons" for d in sizes)
    lines += [
        f"| computation | {header} | same at every size |",
        "|---|" + "---:|" * len(sizes) + "---|",
    ]
    for label, get in (
        ("ours, cold", lambda d: d["ours_queries"]["queries"]),
        ("ours, warm", lambda d: d["ours_warm_queries"]["queries"]),
        ("hand-written SQL", lambda d: d["sql_queries"]["queries"]),
    ):
        counts = [get(d) for d in sizes]
        same = "yes" if len(set(counts)) == 1 else "**no**"
        lines.append(f"| {label} | {' | '.join(str(c) for c in counts)} | {same} |")
    if small and small["keys"] != large["keys"]:
        lines += ["", "(The catalogue changed between the passes: the counts do not compare.)"]
    lines += ["", "### Where our time goes"]
    if large.get("ours_by_table"):
        total = sum(row["ms"] for row in large["ours_by_table"])
        lines += [
            "",
            f"Our queries in one cold run, by the first table they read ({_ms(total)} ms in all):",
            "",
            "| table | queries | ms | share |",
            "|---|---:|---:|---:|",
        ]
        for row in large["ours_by_table"][:TOP_FIGURES]:
            lines.append(
                f"| `{row['table']}` | {row['queries']} | {_ms(row['ms'])} "
                f"| {row['ms'] * 100 / total:.0f}% |"
            )
    if large["figures"]:
        total = sum(row["ms"] for row in large["figures"])
        lines += [
            "",
            "Each figure computed on its own, cold, for the rows this year and the district in "
            "the two earlier periods (median of 3; shares, worked out from two other figures, "
            "left out; in the page the parts of one figure — visits by kind — and a count and "
            f"sum of the same records share one query); together {_ms(total)} ms. The "
            f"{min(TOP_FIGURES, len(large['figures']))} slowest:",
            "",
            "| figure | ms | share of the figures' time | queries |",
            "|---|---:|---:|---:|",
        ]
        for row in large["figures"][:TOP_FIGURES]:
            lines.append(
                f"| `{row['key']}` | {_ms(row['ms'])} | {row['ms'] * 100 / total:.0f}% "
                f"| {row['queries']} |"
            )
    if large["groups"]:
        lines += [
            "",
            "The hand-written SQL by statement (median of 3, the three periods):",
            "",
            "| statement | figures | ms |",
            "|---|---:|---:|",
        ]
        for row in large["groups"]:
            lines.append(f"| {row['name']} | {row['figures']} | {_ms(row['ms'])} |")
    lines += ["", f"Figures covered ({len(covered)}): {_list(covered)}."]
    if large.get("explain"):
        slowest = large["ours_queries"]["slowest"]
        lines += [
            "",
            f"### Missed: our slowest query ({slowest['ms']:.1f} ms, cold run)",
            "",
            "With `EXPLAIN (ANALYZE, BUFFERS)`:",
            "",
            "```sql",
            large["explain"]["sql"],
            "```",
            "",
            "```",
            large["explain"]["plan"] or "(no plan)",
            "```",
        ]
    return "\n".join(lines) + "\n"


def _child(args, url: str, *, households, persons, log_rows, household_years, merchants, uses):
    argv = ["--database-url", url, "--households", str(households), "--persons", str(persons)]
    argv += ["--log-rows", str(log_rows), "--years", str(args.years)]
    argv += ["--household-years", str(household_years), "--merchants", str(merchants)]
    argv += ["--card-uses", str(uses)]
    argv += ["--repeat", str(args.repeat), "--warmup", str(args.warmup), "--seed", str(args.seed)]
    argv += ["--regenerate"] if args.regenerate else []
    argv += ["--no-per-figure"] if not args.per_figure else []
    return common.run_child(
        "reports", argv, f"at {log_rows:,} log rows in {datagen.database_name(url)}"
    )


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench reports", description=__doc__)
    parser.add_argument("--log-rows", type=int, default=1_000_000, help="size of the data set")
    parser.add_argument("--years", type=int, default=5, help="years of logs ending today")
    parser.add_argument(
        "--household-years", type=int, default=5, help="years on the timeline household"
    )
    parser.add_argument("--households", type=int, default=40_000)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--merchants", type=int, default=300)
    parser.add_argument("--card-uses", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--small-log-rows", type=int, default=10_000)
    parser.add_argument("--small-household-years", type=int, default=1)
    parser.add_argument("--small-households", type=int, default=400)
    parser.add_argument("--small-persons", type=int, default=1_000)
    parser.add_argument("--small-merchants", type=int, default=30)
    parser.add_argument("--small-card-uses", type=int, default=1_000)
    parser.add_argument(
        "--small-database-url",
        help="database of the small pass (default: the same server, <name>_small)",
    )
    parser.add_argument("--no-small", action="store_true", help="skip the small pass")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seed", type=int, default=datagen.SEED)
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="rebuild what this benchmark adds (not the outreach benchmark's data set)",
    )
    parser.add_argument(
        "--no-per-figure",
        dest="per_figure",
        action="store_false",
        help="skip timing each figure on its own",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--no-write", action="store_true", help="print, do not write the docs")
    parser.add_argument("--measure-into", help=argparse.SUPPRESS)  # the child's JSON file
    return parser.parse_args(argv)


def main(argv) -> int:
    args = parse(argv)
    if args.measure_into:
        if not datagen.is_postgres(args.database_url):
            raise SystemExit("The reports benchmark needs PostgreSQL (COPY).")
        common.write_json(args.measure_into, measure(args))
        return 0
    small_url = args.small_database_url or datagen.small_url(args.database_url)
    small = None
    if not args.no_small:
        datagen.ensure_postgres(small_url)
        small = _child(
            args,
            small_url,
            households=args.small_households,
            persons=args.small_persons,
            log_rows=args.small_log_rows,
            household_years=args.small_household_years,
            merchants=args.small_merchants,
            uses=args.small_card_uses,
        )
    datagen.ensure_postgres(args.database_url)
    large = _child(
        args,
        args.database_url,
        households=args.households,
        persons=args.persons,
        log_rows=args.log_rows,
        household_years=args.household_years,
        merchants=args.merchants,
        uses=args.card_uses,
    )
    found = targets(small, large)
    services_found = service_targets(small, large)
    text = report(small, large, argv=argv, found=found)
    services_text = services_report(small, large, argv=argv, found=services_found)
    print(text)
    print(services_text)
    failed = [d for d in (small, large) if d and d["mismatches"]]
    for data in failed:
        print(
            f"FAILED: {len(data['mismatches'])} figures differ from the hand-written SQL in "
            f"{data['database']}:",
            file=sys.stderr,
        )
        for line in data["mismatches"]:
            print(f"  {line}", file=sys.stderr)
    missing = large["not_covered"]
    if missing:
        print(
            f"NOT COVERED by the hand-written SQL ({len(missing)}): {', '.join(missing)}",
            file=sys.stderr,
        )
    if failed:
        found.append(
            common.Target(
                NAME,
                "Annual summary: every figure equal to its SQL's",
                f"{sum(len(d['mismatches']) for d in failed)} differ",
                "0 differ",
                False,
                "figures differ from the hand-written SQL (printed by the run)",
            )
        )
        common.record(found + services_found)
        print("Nothing written: the figures must agree first.", file=sys.stderr)
        return 1
    common.record(found + services_found)
    if not args.no_write:
        write_section(text, args.output, SECTION)
        write_section(services_text, args.output, SERVICES_SECTION)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
