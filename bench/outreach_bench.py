"""Outreach pages against Django's stock admin, on the same data in the same run.

``python -m bench outreach`` measures, on PostgreSQL, with 1,000,000 log rows (visits,
follow-ups, assistance, meetings, consultations) over five years:

- the household page with its timeline (``residents:household-detail``) of a household that
  carries five years of logs (about five visits a month), beside the admin's visit changelist
  filtered to that household;
- the district compliance page (``outreach:compliance``) beside the admin's visit changelist
  for this whole year;

both for the district bureau user against the superuser, and writes the figures to
docs/performance.md ("Outreach pages"). The compliance page caches its figures under the
version of the data (``outreach/compliance_cache.py``): it is timed warm (the figures cached,
as for every request after the first at a version; the target is judged on this) and cold
(Django's cache emptied before each request, outside the timed part: the first request after
any change to the data), each beside the admin timed in the same rounds. Two passes, each in
a child process with its own database: a small one for the query counts and the full size for
the counts and the timings.
The data set is kept in its database and reused while its size matches. See bench/README.md.
"""

import argparse
import datetime
import io
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

from bench import common, datagen
from bench.common import explain as _explain
from bench.common import explained, measure_urls, write_section
from bench.common import machine as _machine
from bench.registry_bench import missed_sections

ROOT = datagen.ROOT
OUTPUT = ROOT / "docs" / "performance.md"
SECTION = "## Outreach pages"
DEFAULT_URL = datagen.with_database(datagen.DEFAULT_URL, "tongxin_bench_outreach")
BUREAU_USER = "quminzongju"
SUPERUSER = "admin"
TARGET = 0.5  # ours at most half the admin's time
BATCH = 5000
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))  # no daylight saving since 1991
# Shares of the log rows; the rest are visits.
SHARES = {"follow_ups": 0.10, "assistance": 0.10, "meetings": 0.04, "consultations": 0.15}
HOUSEHOLD_VISITS_A_MONTH = 5


# ---------------------------------------------------------------------------- the data set


def log_models():
    from outreach.models import Assistance, Consultation, FollowUp, Meeting, Visit

    return [Visit, FollowUp, Assistance, Meeting, Consultation]


def log_counts() -> dict:
    return {model._meta.model_name: model.objects.count() for model in log_models()}


def timeline_household():
    """The household whose timeline is measured: the largest of 平江路社区 (as the registry
    benchmark's household page)."""
    from django.db.models import Count

    from residents.models import Household

    return (
        Household.objects.filter(community__name="平江路社区")
        .annotate(size=Count("members"))
        .order_by("-size", "pk")
        .first()
    )


def _marker() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description('outreach_visit'::regclass, 'pg_class')")
        return cursor.fetchone()[0] or ""


def _describe(args) -> str:
    return (
        f"bench outreach: log_rows={args.log_rows} years={args.years} "
        f"household_years={args.household_years} seed={args.seed}"
    )


def _wipe_outreach(url: str) -> None:
    """Empty outreach's casework tables of a benchmark database (never of any other); the
    festivals and obligations of the migrations stay."""
    from django.apps import apps
    from django.db import connection

    if not datagen.database_name(url).startswith("tongxin_bench"):
        raise SystemExit(f"Refusing to empty {datagen.database_name(url)}: not a bench database.")
    keep = {"festival", "obligation", "historicalfestival", "historicalobligation"}
    tables = []
    for model in apps.get_app_config("outreach").get_models(include_auto_created=True):
        name = model._meta.model_name
        if name in keep or name.startswith("festival_"):
            continue
        tables.append(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def ensure_logs(args) -> float | None:
    """Generate the outreach data set unless this one is there; return the seconds it took."""
    from django.db import connection

    same = not args.regenerate and _marker() == _describe(args)
    if same and sum(log_counts().values()) == args.log_rows:
        return None
    _wipe_outreach(args.database_url)
    started = time.perf_counter()
    _LogWriter(args).write()
    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON TABLE outreach_visit IS '{_describe(args)}'")
        cursor.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - started
    print(f"Outreach logs: {log_counts()} ({seconds:.1f} s)", file=sys.stderr)
    return seconds


def _copy(model, rows, columns=None) -> int:
    """Write ``rows`` (dicts keyed by column) into ``model``'s table with COPY."""
    from django.db import connection

    columns = columns or [f.column for f in model._meta.concrete_fields]
    # A column the writer does not fill (a field added since, such as an edit version) gets
    # the field's default.
    defaults = {f.column: f.get_default() for f in model._meta.concrete_fields}
    table = model._meta.db_table
    written = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row[c] if c in row else defaults.get(c) for c in columns])
                written += 1
        if "id" in columns:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
            )
    return written


class _LogWriter:
    """About ``log_rows`` rows of logs over ``years`` years ending today, with COPY: the
    timeline household's five visits a month first, then visits, follow-ups, assistance,
    meetings and consultations spread over the district's register."""

    def __init__(self, args):
        from django.utils import timezone

        self.args = args
        self.rng = random.Random(args.seed)
        self.today = timezone.localdate()
        self.start = self.today - datetime.timedelta(days=365 * args.years)
        self.span = (self.today - self.start).days

    # -------------------------------------------------------------- what exists

    def load(self):
        from network.models import Area, AreaLevel, LiaisonGroup, Post, Role
        from outreach.festivals import festival_dates
        from outreach.models import Festival, GroupMembership, Pairing
        from residents.models import Household, Person

        district = Area.objects.get(code="320508000000")
        areas = {a.pk: a for a in Area.objects.filter(path__startswith=district.path)}
        subs = {pk for pk, a in areas.items() if a.level == AreaLevel.SUBDISTRICT}
        self.district = district
        self.sub_of = {
            pk: next(i for i in a.ancestor_ids() if i in subs)
            for pk, a in areas.items()
            if a.level == AreaLevel.COMMUNITY
        }
        self.group_of = dict(
            LiaisonGroup.objects.filter(community_id__in=self.sub_of).values_list(
                "community_id", "pk"
            )
        )
        self.staff: dict[int, list[int]] = {}
        for area_id, user_id, role in (
            Post.objects.current().values_list("area_id", "user_id", "role").order_by("pk")
        ):
            if role in (Role.COMMUNITY, Role.SUBDISTRICT, Role.DISTRICT):
                self.staff.setdefault(area_id, []).append(user_id)
        self.liaisons: dict[int, list[tuple[int, int | None]]] = {}
        for group_id, liaison_id, user_id in (
            GroupMembership.objects.filter(end_date__isnull=True)
            .values_list("group_id", "liaison_id", "liaison__user_id")
            .order_by("pk")
        ):
            self.liaisons.setdefault(group_id, []).append((liaison_id, user_id))
        self.households = list(
            Household.objects.filter(community_id__in=self.sub_of)
            .values_list("pk", "community_id", "is_dibao", "is_low_income", "is_elderly_alone")
            .order_by("pk")
        )
        self.adults: dict[int, list[int]] = {}
        born_before = self.today.replace(year=self.today.year - 18)
        for pk, community_id in (
            Person.objects.filter(birth_date__lt=born_before, status="active")
            .values_list("pk", "community_id")
            .order_by("pk")
        ):
            self.adults.setdefault(community_id, []).append(pk)
        self.pairings: dict[int, list[int]] = {}
        for pk, household_id in Pairing.objects.values_list("pk", "household_id").order_by("pk"):
            self.pairings.setdefault(household_id, []).append(pk)
        four = {("lunar", 1, 15), ("gregorian", 7, 1), ("lunar", 8, 15), ("gregorian", 10, 1)}
        self.occasions = []  # (festival id, date) of the four festival visits in the window
        for festival in Festival.objects.order_by("pk"):
            if (festival.calendar, festival.month, festival.day) not in four:
                continue
            for year in range(self.start.year, self.today.year + 1):
                for day in festival_dates(festival, year):
                    if self.start <= day <= self.today + datetime.timedelta(days=10):
                        self.occasions.append((festival.pk, day))

    def officials(self, community_id) -> list[int]:
        return (
            self.staff.get(community_id)
            or self.staff.get(self.sub_of.get(community_id))
            or self.staff.get(self.district.pk, [])
        )

    # -------------------------------------------------------------- small pieces

    def day(self) -> datetime.date:
        return self.start + datetime.timedelta(days=self.rng.randrange(self.span + 1))

    def moment(self, day: datetime.date, hour: int | None = None) -> datetime.datetime:
        hour = self.rng.randint(8, 18) if hour is None else hour
        if day >= self.today:
            day, hour = self.today - datetime.timedelta(days=1), 20
        return datetime.datetime.combine(
            day, datetime.time(hour, self.rng.randrange(0, 60, 5)), tzinfo=SHANGHAI
        )

    def key(self):
        import uuid

        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    # -------------------------------------------------------------- writing

    def write(self):
        from outreach import demo

        out = io.StringIO()
        demo.build_people(seed=self.args.seed, stdout=out, today=self.today)
        print(out.getvalue().strip(), file=sys.stderr)
        self.load()
        self.chosen = timeline_household()
        self.pair_the_chosen_household()
        total = self.args.log_rows
        self.visits, self.visit_users, self.visit_liaisons = [], [], []
        self.follow_ups, self.assistance, self.meetings, self.consultations = [], [], [], []
        self.meeting_liaisons = []
        self.chosen_household_logs()
        wanted = {name: int(total * share) for name, share in SHARES.items()}
        wanted["visits"] = total - sum(wanted.values())
        self.bulk_visits(wanted["visits"] - len(self.visits))
        self.bulk_follow_ups(wanted["follow_ups"] - len(self.follow_ups))
        self.bulk_assistance(wanted["assistance"] - len(self.assistance))
        self.bulk_meetings(wanted["meetings"])
        self.bulk_consultations(wanted["consultations"] - len(self.consultations))
        self.save()

    def pair_the_chosen_household(self):
        from outreach.models import Pairing, PairingKind

        home = self.chosen
        start = self.today - datetime.timedelta(days=365 * self.args.household_years + 30)
        staff = self.officials(home.community_id)
        group = self.group_of.get(home.community_id)
        liaison = (self.liaisons.get(group) or [(None, None)])[0][0]
        made = [
            Pairing(
                community_id=home.community_id,
                household=home,
                kind=PairingKind.COMMITTEE_RESIDENT,
                partner_user_id=staff[0] if staff else None,
                partner_liaison_id=None if staff else liaison,
                visits_per_year=12,
                start_date=start,
                note="基准测试：时间线住户",
            )
        ]
        if liaison:
            made.append(
                Pairing(
                    community_id=home.community_id,
                    household=home,
                    kind=PairingKind.LIAISON_RESIDENT,
                    partner_liaison_id=liaison,
                    visits_per_year=12,
                    start_date=start,
                )
            )
        made.append(
            Pairing(
                community_id=home.community_id,
                household=home,
                kind=PairingKind.ASSISTANCE,
                partner_user_id=staff[0] if staff else None,
                partner_liaison_id=None if staff else liaison,
                visits_per_year=4,
                start_date=start + datetime.timedelta(days=400),
            )
        )
        Pairing.objects.bulk_create([p for p in made if p.partner_user_id or p.partner_liaison_id])
        self.pairings[home.pk] = list(
            Pairing.objects.filter(household=home).values_list("pk", flat=True)
        )

    def visit(self, household_id, community_id, day, kind, *, festival=None, pairing=None):
        from outreach.demo import LEARNED, NEEDS

        rng = self.rng
        group = self.group_of.get(community_id)
        need = rng.choice(NEEDS) if rng.random() < 0.15 else None
        staff = self.officials(community_id)
        liaisons = self.liaisons.get(group, [])
        index = len(self.visits)
        user = rng.choice(staff) if staff and rng.random() < 0.5 else None
        liaison = rng.choice(liaisons) if liaisons else None
        self.visits.append(
            {
                "household_id": household_id,
                "community_id": community_id,
                "liaison_group_id": group,
                "pairing_id": pairing,
                "visited_on": day,
                "kind": kind,
                "festival_id": festival,
                "other_visitors": "",
                "learned": rng.choice(LEARNED[kind]),
                "needs": need[0] if need else "",
                "created_by_id": (liaison[1] if liaison and liaison[1] else user),
                "submission_key": self.key(),
                "archived_at": None,
                "created_at": self.moment(day, 19),
                "updated_at": self.moment(day, 19),
            }
        )
        if user:
            self.visit_users.append((index, user))
        if liaison:
            self.visit_liaisons.append((index, liaison[0]))
        return index

    def chosen_household_logs(self):
        """Five years of a household's life on the timeline: about five visits a month, a
        follow-up on some, assistance on a quarter of them, a consultation every few months."""
        from outreach.models import VisitKind

        rng, home = self.rng, self.chosen
        first = self.today - datetime.timedelta(days=365 * self.args.household_years)
        pairings = self.pairings.get(home.pk, [])
        month = datetime.date(first.year, first.month, 1)
        while month <= self.today:
            for _ in range(HOUSEHOLD_VISITS_A_MONTH):
                day = month + datetime.timedelta(days=rng.randrange(28))
                if not first <= day <= self.today:
                    continue
                kind = rng.choice(
                    [VisitKind.CARE, VisitKind.PAIRING, VisitKind.PAIRING, VisitKind.HARDSHIP]
                )
                pairing = rng.choice(pairings) if kind == VisitKind.PAIRING and pairings else None
                index = self.visit(home.pk, home.community_id, day, kind, pairing=pairing)
                if rng.random() < 0.15:
                    self.follow_up(index)
                if rng.random() < 0.25:
                    self.give(index)
            if rng.random() < 0.4:
                self.consultation(home.community_id, self.moment(month), person=True)
            month = (month + datetime.timedelta(days=32)).replace(day=1)
        for festival, day in self.occasions:
            if first <= day - datetime.timedelta(days=3) <= self.today:
                self.visit(
                    home.pk,
                    home.community_id,
                    day - datetime.timedelta(days=3),
                    VisitKind.FESTIVAL,
                    festival=festival,
                )
        # the timeline's persons are the household's members
        members = list(home.members.values_list("pk", flat=True))
        for row in self.consultations:
            row["person_id"] = rng.choice(members) if members else None
            row["visitor"] = "" if members else "住户"

    def bulk_visits(self, count: int):
        from outreach.models import VisitKind

        rng = self.rng
        homes = [h for h in self.households if h[0] != self.chosen.pk]
        if not homes:
            return
        for _ in range(max(0, count)):
            pk, community_id, dibao, low_income, alone = rng.choice(homes)
            roll = rng.random()
            festival, pairing = None, None
            if roll < 0.45 and self.occasions:
                festival, on = rng.choice(self.occasions)
                day = min(self.today, on - datetime.timedelta(days=rng.randint(-2, 12)))
                kind = VisitKind.FESTIVAL
            else:
                day = self.day()
                if roll < 0.6 and (dibao or low_income or alone):
                    kind = VisitKind.HARDSHIP
                elif roll < 0.75 and self.pairings.get(pk):
                    kind, pairing = VisitKind.PAIRING, rng.choice(self.pairings[pk])
                elif roll < 0.78:
                    kind = VisitKind.NEW_ARRIVAL
                else:
                    kind = VisitKind.CARE
            self.visit(
                pk, community_id, max(day, self.start), kind, festival=festival, pairing=pairing
            )

    def follow_up(self, index):
        from outreach.demo import NEEDS
        from outreach.models import FollowUpStatus

        rng = self.rng
        visit = self.visits[index]
        need = rng.choice(NEEDS)
        due = visit["visited_on"] + datetime.timedelta(days=need[2])
        old = (self.today - due).days > 30
        status = rng.choices(
            [FollowUpStatus.DONE, FollowUpStatus.OPEN, FollowUpStatus.DROPPED],
            (90, 4, 6) if old else (4, 5, 1),
        )[0]
        staff = self.officials(visit["community_id"])
        done = visit["visited_on"] + datetime.timedelta(days=rng.randint(0, need[2] + 5))
        self.follow_ups.append(
            {
                "visit_id": index,
                "action": need[1],
                "due_on": due,
                "assignee_id": rng.choice(staff) if staff else None,
                "status": status,
                "done_on": min(done, self.today) if status == FollowUpStatus.DONE else None,
                "note": "",
            }
        )

    def bulk_follow_ups(self, count: int):
        for _ in range(max(0, count)):
            self.follow_up(self.rng.randrange(len(self.visits)))

    def give(self, index):
        from outreach.models import AssistanceKind

        rng = self.rng
        kind = rng.choices(list(AssistanceKind), (3, 5, 2))[0]
        description, low, high = {
            AssistanceKind.CASH: ("困难补助金", 300, 1000),
            AssistanceKind.GOODS: ("米、面、油", 100, 400),
            AssistanceKind.SERVICE: ("上门服务", 50, 200),
        }[kind]
        self.assistance.append(
            {
                "visit_id": index,
                "kind": kind,
                "description": description,
                "value": Decimal(rng.randrange(low, high + 1, 10)),
            }
        )

    def bulk_assistance(self, count: int):
        for _ in range(max(0, count)):
            self.give(self.rng.randrange(len(self.visits)))

    def bulk_meetings(self, count: int):
        from outreach.demo import DECISIONS, STUDY_MINUTES, STUDY_TOPICS
        from outreach.models import MeetingKind

        rng = self.rng
        communities = sorted(self.group_of)
        subs = sorted(set(self.sub_of.values()))
        kinds = list(MeetingKind)
        weights = [4, 8, 3, 3, 2, 60, 8, 3, 2, 2, 3]  # as MeetingKind: study sessions most
        for _ in range(max(0, count)):
            kind = rng.choices(kinds, weights)[0]
            day = self.day()
            in_group = kind in (MeetingKind.STUDY, MeetingKind.PUBLICITY)
            community = rng.choice(communities)
            group = self.group_of[community] if in_group else None
            area = community if in_group else rng.choice(subs)
            index = len(self.meetings)
            self.meetings.append(
                {
                    "archived_at": None,
                    "created_at": self.moment(day, 18),
                    "updated_at": self.moment(day, 18),
                    "kind": kind,
                    "title": rng.choice(STUDY_TOPICS) if kind == MeetingKind.STUDY else "",
                    "area_id": area,
                    "liaison_group_id": group,
                    "held_on": day,
                    "venue": "民族之家",
                    "other_attendees": rng.randint(0, 20),
                    "minutes": rng.choice(STUDY_MINUTES),
                    "decisions": rng.choice(DECISIONS),
                    "cost": Decimal(rng.randrange(0, 3001, 100)),
                    "created_by_id": None,
                    "submission_key": self.key(),
                }
            )
            pool = self.liaisons.get(self.group_of[community], [])
            for liaison in rng.sample(pool, min(len(pool), 3)):
                self.meeting_liaisons.append((index, liaison[0]))

    def consultation(self, community_id, received, *, person=False):
        from outreach.demo import CHANNEL_WEIGHTS, CONSULTATIONS, TOPIC_WEIGHTS
        from outreach.models import ConsultationStatus

        rng = self.rng
        channel = rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]
        topic = rng.choices(list(TOPIC_WEIGHTS), list(TOPIC_WEIGHTS.values()))[0]
        questions, answers, offices, (low, high) = CONSULTATIONS[topic]
        closes = received.date() + datetime.timedelta(days=rng.randint(low, high))
        roll = rng.random()
        if closes > self.today:
            status = ConsultationStatus.OPEN if roll < 0.4 else ConsultationStatus.IN_PROGRESS
        elif roll < 0.82:
            status = ConsultationStatus.RESOLVED
        else:
            status = ConsultationStatus.REFERRED
        adults = self.adults.get(community_id, [])
        known = person or (adults and rng.random() < 0.65)
        closed = status in (ConsultationStatus.RESOLVED, ConsultationStatus.REFERRED)
        staff = self.officials(community_id)
        self.consultations.append(
            {
                "archived_at": None,
                "created_at": received,
                "updated_at": received,
                "community_id": community_id,
                "person_id": rng.choice(adults) if known and adults else None,
                "visitor": "" if known and adults else "马先生（来苏务工人员）",
                "visitor_phone": "",
                "channel": channel,
                "topic": topic,
                "received_at": received,
                "summary": rng.choice(questions),
                "handler_id": rng.choice(staff) if staff else None,
                "status": status,
                "referred_to": rng.choice(offices) if status == "referred" else "",
                "resolution": rng.choice(answers) if closed else "",
                "closed_on": closes if closed else None,
                "submission_key": self.key(),
            }
        )

    def bulk_consultations(self, count: int):
        communities = sorted(self.group_of)
        for _ in range(max(0, count)):
            community = self.rng.choice(communities)
            self.consultation(community, self.moment(self.day()))

    # -------------------------------------------------------------- COPY

    def save(self):
        from outreach.models import Assistance, Consultation, FollowUp, Meeting, Visit

        visit_ids = self._ids(Visit, self.visits)
        _copy(Visit, self.visits)
        for rows in (self.follow_ups, self.assistance):
            for row in rows:
                row["visit_id"] = visit_ids[row["visit_id"]]
        self._ids(FollowUp, self.follow_ups)
        _copy(FollowUp, self.follow_ups)
        self._ids(Assistance, self.assistance)
        _copy(Assistance, self.assistance)
        _copy(
            Visit.visitors.through,
            ({"visit_id": visit_ids[i], "user_id": u} for i, u in self.visit_users),
            ["visit_id", "user_id"],
        )
        _copy(
            Visit.visiting_liaisons.through,
            ({"visit_id": visit_ids[i], "liaison_id": pk} for i, pk in self.visit_liaisons),
            ["visit_id", "liaison_id"],
        )
        meeting_ids = self._ids(Meeting, self.meetings)
        _copy(Meeting, self.meetings)
        _copy(
            Meeting.attending_liaisons.through,
            ({"meeting_id": meeting_ids[i], "liaison_id": pk} for i, pk in self.meeting_liaisons),
            ["meeting_id", "liaison_id"],
        )
        self._ids(Consultation, self.consultations)
        _copy(Consultation, self.consultations)

    @staticmethod
    def _ids(model, rows) -> list[int]:
        from django.db.models import Max

        first = (model.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        ids = list(range(first, first + len(rows)))
        for pk, row in zip(ids, rows, strict=True):
            row["id"] = pk
        return ids


# ---------------------------------------------------------------------------- child: measure


def _timeline_shown(client, url: str) -> tuple[int | None, dict]:
    """How many timeline entries the household page shows, by kind (from its context)."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()  # instruments rendering so response.context is kept (only here)
    try:
        response = client.get(url)
    finally:
        teardown_test_environment()
    try:
        page = response.context["timeline"]
    except (KeyError, TypeError):
        return None, {}
    kinds: dict[str, int] = {}
    for entry in page.entries:
        kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
    return len(page.entries), kinds


def measure_cold(clients: dict, urls: dict, *, warmup: int, repeat: int) -> dict:
    """As ``measure_urls``, with Django's cache emptied before every request (outside the
    timed part), so that cached figures are computed afresh each time."""
    from django.core.cache import cache

    return measure_urls(clients, urls, warmup=warmup, repeat=repeat, before=cache.clear)


_ratio = common.ratio

# The outreach lists, each beside the admin's changelist of the same model showing as many
# rows a page: (key, label, our URL name, model, admin query string).
LISTS = [
    ("visit_list", "Visit list", "outreach:visit-list", "outreach.Visit"),
    ("followup_list", "Follow-up list", "outreach:followup-list", None),
    ("meeting_list", "Meeting list", "outreach:meeting-list", "outreach.Meeting"),
    (
        "consultation_list",
        "Consultation list",
        "outreach:consultation-list",
        "outreach.Consultation",
    ),
    ("pairing_list", "Pairing list", "outreach:pairing-list", "outreach.Pairing"),
]


def measure_lists(clients: dict, lists, *, warmup: int, repeat: int) -> tuple[list, list]:
    """Each list page beside the admin's changelist of its model, the admin set (in this
    process only) to show as many rows a page as ours, so both show the same number of rows;
    a list without an admin page is measured alone (its query count)."""
    from django.apps import apps
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    results, skipped = [], []
    for key, label, name, model_label in lists:
        try:
            ours = reverse(name)
        except NoReverseMatch:
            skipped.append(f"{label} (`{name}`)")
            continue
        urls = {"bureau": ours}
        model_admin, per_page_before = None, None
        if model_label:
            model = apps.get_model(model_label)
            model_admin = admin.site._registry.get(model)
        if model_admin is not None:
            per_page, _pages = common.paging(clients["bureau"], ours)
            per_page_before = model_admin.list_per_page
            model_admin.list_per_page = per_page or per_page_before
            opts = model._meta
            urls["admin"] = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        for who, url in urls.items():
            print(f"  {key:<18} {who:<7} {url}", file=sys.stderr)
        shown = model_admin.list_per_page if model_admin else None
        try:
            users = measure_urls(clients, urls, warmup=warmup, repeat=repeat)
        finally:
            if model_admin is not None:
                model_admin.list_per_page = per_page_before
        row = {"key": key, "label": label, "users": users, "list": True, "per_page": shown}
        row["target"] = TARGET if "admin" in urls else None
        row["ratio"] = _ratio(users)
        if row["ratio"] is not None and row["ratio"] > TARGET:
            slowest = users["bureau"].get("slowest") or {}
            row["explain"] = {
                "sql": slowest.get("sql", ""),
                "plan": _explain(slowest.get("sql", "")),
            }
        results.append(row)
    return results, skipped


def measure(args) -> dict:
    """Run in a child process: prepare the database, then measure both pages."""
    datagen.setup_django(args.database_url)
    from django.db.models import Max, Min
    from django.test import Client
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from network.models import User
    from outreach.models import Visit

    datagen.migrate()
    datagen.ensure_data(
        args.database_url,
        households=args.households,
        persons=args.persons,
        seed=args.seed,
        regenerate=args.regenerate,
    )
    generated = ensure_logs(args)
    households, persons = datagen.register_size()
    household = timeline_household()
    year = timezone.localdate().year
    load_before = os.getloadavg()[0]
    clients = {"bureau": Client(), "admin": Client()}
    clients["bureau"].force_login(User.objects.get(username=BUREAU_USER))
    clients["admin"].force_login(User.objects.get(username=SUPERUSER))
    admin_visits = reverse("admin:outreach_visit_changelist")
    pages = [
        {
            "key": "timeline_page",
            "label": "Household timeline, one page (`household-timeline`)",
            "ours": ("residents:household-timeline", {"pk": household.pk}),
            "admin": f"{admin_visits}?household__id__exact={household.pk}",
        },
        {
            "key": "timeline",
            "label": "Whole household page with its timeline (for reference)",
            "ours": ("residents:household-detail", {"pk": household.pk}),
            "admin": f"{admin_visits}?household__id__exact={household.pk}",
            "target": None,  # members, history and forms besides the timeline
        },
        {
            "key": "compliance",
            "label": "District compliance page",
            "ours": ("outreach:compliance", {}),
            "admin": f"{admin_visits}?visited_on__year={year}",
            "cold": True,  # its figures are cached: timed cold as well
        },
    ]
    results, skipped = [], []
    for page in pages:
        name, kwargs = page["ours"]
        try:
            ours = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            ours = None
            skipped.append(f"{page['label']} (`{name}`)")
        urls = {"bureau": ours, "admin": page["admin"]} if ours else {"admin": page["admin"]}
        for who, url in urls.items():
            print(f"  {page['key']:<10} {who:<7} {url}", file=sys.stderr)
        row = {"key": page["key"], "label": page["label"], "target": page.get("target", TARGET)}
        row["users"] = measure_urls(clients, urls, warmup=args.warmup, repeat=args.repeat)
        row["ratio"] = _ratio(row["users"])
        if page.get("cold") and ours:
            row["cold"] = measure_cold(clients, urls, warmup=args.warmup, repeat=args.repeat)
            row["cold_ratio"] = _ratio(row["cold"])
            slowest = row["cold"].get("bureau", {}).get("slowest") or {}
            row["cold_explain"] = {
                "sql": slowest.get("sql", ""),
                "plan": _explain(slowest.get("sql", "")),
            }
        if row["ratio"] is not None and row["target"] and row["ratio"] > row["target"]:
            slowest = row["users"]["bureau"].get("slowest") or {}
            row["explain"] = {
                "sql": slowest.get("sql", ""),
                "plan": _explain(slowest.get("sql", "")),
            }
        if page["key"] == "timeline" and ours:
            row["shown"], row["shown_kinds"] = _timeline_shown(clients["bureau"], ours)
        results.append(row)
    lists, not_built = measure_lists(clients, LISTS, warmup=args.warmup, repeat=args.repeat)
    results += lists
    skipped += not_built
    version = common.server_version()
    return {
        "database": datagen.database_name(args.database_url),
        "server_version": str(version),
        "households": households,
        "persons": persons,
        "logs": log_counts(),
        "log_rows": sum(log_counts().values()),
        "household_visits": Visit.objects.filter(household=household).count(),
        "household_span": [
            str(day)
            for day in Visit.objects.filter(household=household)
            .aggregate(first=Min("visited_on"), last=Max("visited_on"))
            .values()
        ],
        "year_visits": Visit.objects.filter(visited_on__year=year).count(),
        "generated_seconds": generated,
        "warmup": args.warmup,
        "repeat": args.repeat,
        "skipped": skipped,
        "load": [load_before, os.getloadavg()[0]],
        "pages": results,
    }


# ---------------------------------------------------------------------------- parent: report


_cell = common.cell
NAME = SECTION.removeprefix("## ")


def targets(small: dict | None, large: dict) -> list[common.Target]:
    """Each judged page's time against the admin's (the compliance page warm), and every
    page's query count at both sizes (the compliance page warm and cold)."""
    found = []
    for row in large["pages"]:
        if row["target"] is not None:
            label = f"{row['label']}, warm" if "cold" in row else row["label"]
            found.append(
                common.at_most(NAME, f"{label}: time / admin's", row.get("ratio"), row["target"])
            )
    small_rows = {r["key"]: r for r in small["pages"]} if small else {}
    sizes = [f"{d['log_rows']:,} log rows" for d in (small, large) if d is not None]
    for row in large["pages"]:
        parts = [("users", row["label"])]
        if "cold" in row:
            parts = [("users", f"{row['label']}, warm"), ("cold", f"{row['label']}, cold")]
        for part, label in parts:
            counts = []
            for data, source in ((small, small_rows.get(row["key"])), (large, row)):
                if data is not None:
                    counts.append((source or {}).get(part, {}).get("bureau", {}).get("queries"))
            found.append(common.query_target(NAME, label, counts, sizes))
    return found


def report(small: dict | None, large: dict, *, argv: list[str], found: list) -> str:
    machine = _machine()
    logs = large["logs"]
    lines = [
        SECTION,
        "",
        f"Measured {common.machine_line()}; PostgreSQL {large['server_version']}, Django test "
        "client in-process (no network, DEBUG off, persistent database connection). Each page: "
        f"{large['warmup']} warm-up requests, then the median of {large['repeat']}, ours and the "
        f'admin\'s requested in turn. "Ours" is requested by the district bureau user '
        f'`{BUREAU_USER}` (the whole district); "admin" is Django\'s stock changelist as the '
        f"superuser `{SUPERUSER}`, showing the same rows: for the timeline and the compliance "
        "page the changelist of visits (`VisitAdmin`, 20 rows a page, as many as a page of the "
        "timeline) filtered to the household's visits or this year's; for each list, the "
        "changelist of its model set (in the benchmark's process only) to as many rows a page as "
        "the list shows. Targets: time at most half the admin's; at most "
        f"{common.QUERY_LIMIT} SQL queries a page, the same at both sizes.",
        "",
        *common.command_block("outreach", argv),
        "",
    ]
    generated = large.get("generated_seconds")
    lines.append(
        f"Data: the demo district with {large['households']:,} households and "
        f"{large['persons']:,} persons (`residents/demo.py`), its liaisons, groups and pairings "
        f"(`outreach/demo.py`), and {large['log_rows']:,} log rows over five years: "
        f"{logs['visit']:,} visits, {logs['followup']:,} follow-ups, {logs['assistance']:,} "
        f"assistance, {logs['meeting']:,} meetings, {logs['consultation']:,} consultations "
        f"(`bench/outreach_bench.py`, COPY); "
        + (
            f"generated in {generated:.0f} s."
            if generated is not None
            else "reused from an earlier run (`--regenerate` to time it)."
        )
    )
    lines.append(
        f"The timeline household has {large['household_visits']:,} visits from "
        f"{large['household_span'][0]} to {large['household_span'][-1]} (about "
        f"{HOUSEHOLD_VISITS_A_MONTH} a month), with pairings, follow-ups, assistance and "
        f"consultations; this year has {large['year_visits']:,} visits."
    )
    lines.append(
        "Load average (1 min) when the measurement started and ended: "
        f"{large['load'][0]:.1f} and {large['load'][1]:.1f} on {machine['cores']} cores."
    )
    if large["skipped"]:
        lines.append(f"Not measured, the URL does not resolve yet: {', '.join(large['skipped'])}.")
    lines += ["", *common.targets_lines(found)]
    timeline = next((r for r in large["pages"] if r["key"] == "timeline"), {})
    if timeline.get("shown") is not None:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(timeline["shown_kinds"].items()))
        lines.append(
            f"The household page showed {timeline['shown']} timeline entries on its first page"
            + (f" ({kinds})." if kinds else " (no timeline source registered entries yet).")
        )
    lines += [
        "",
        f"### Time at {large['log_rows']:,} log rows",
        "",
        "Median ms of the whole request (in brackets: median ms spent in SQL, of 3 requests).",
        "",
        "| page | ours, bureau | admin | ours/admin | target | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in large["pages"]:
        users, ratio = row["users"], row.get("ratio")
        target = "—" if row["target"] is None else f"≤ {row['target']:g}"
        if ratio is None or row["target"] is None:
            met = "—"
        else:
            met = "yes" if ratio <= row["target"] else "**no**"
        label = f"{row['label']}, warm (figures cached)" if "cold" in row else row["label"]
        if row.get("per_page"):
            label += f" ({row['per_page']} rows a page)"
        lines.append(
            f"| {label} | {_cell(users.get('bureau'), 'median_ms')} "
            f"| {_cell(users.get('admin'), 'median_ms')} "
            f"| {'—' if ratio is None else f'{ratio:.2f}'} | {target} | {met} |"
        )
        if "cold" in row:
            cold, cold_ratio = row["cold"], row.get("cold_ratio")
            lines.append(
                f"| {row['label']}, cold (cache emptied before each request) "
                f"| {_cell(cold.get('bureau'), 'median_ms')} "
                f"| {_cell(cold.get('admin'), 'median_ms')} "
                f"| {'—' if cold_ratio is None else f'{cold_ratio:.2f}'} | not judged | — |"
            )
    if any("cold" in row for row in large["pages"]):
        lines += [
            "",
            "The compliance page caches its figures (not its HTML) in Django's cache, keyed by "
            "area, span, today, the user's scope and the version of the data "
            "(`outreach/compliance_cache.py`); every save or delete of a visit, meeting, "
            "household, person, obligation, festival, area or liaison group bumps the version "
            "in its own transaction, so figures are never stale. **Warm** is every request "
            "after the first at a version, and the target is judged on it; **cold** is the "
            "first request after any change (Django's cache emptied before each request, "
            "outside the timed part), timed in its own rounds beside the admin.",
        ]
    lines += ["", "### SQL queries per page", ""]
    sizes = [large] if small is None else [small, large]
    header = " | ".join(f"{who} {d['log_rows']:,}" for who in ("ours", "admin") for d in sizes)
    lines += [
        f"| page | {header} | same at every size |",
        "|---|" + "---:|" * (2 * len(sizes)) + "---|",
    ]
    small_rows = {r["key"]: r for r in small["pages"]} if small else {}
    for row in large["pages"]:
        variants = [("users", row["label"])]
        if "cold" in row:
            variants = [("users", f"{row['label']}, warm"), ("cold", f"{row['label']}, cold")]
        for part, label in variants:
            cells, same = [], True
            for who in ("bureau", "admin"):
                counts = []
                for data in sizes:
                    source = row if data is large else small_rows.get(row["key"], {})
                    result = source.get(part, {}).get(who)
                    cells.append(_cell(result, "queries"))
                    counts.append(result.get("queries") if result else None)
                if None not in counts and len(set(counts)) > 1:
                    same = False
            lines.append(f"| {label} | {' | '.join(cells)} | {'yes' if same else '**no**'} |")
    if small:
        lines += [
            "",
            f"The small pass: {small['households']:,} households, {small['log_rows']:,} log "
            f"rows, the timeline household with {small['household_visits']:,} visits.",
        ]
    lines += ["", f"URLs requested (at {large['log_rows']:,} log rows):", ""]
    for row in large["pages"]:
        for who, result in row["users"].items():
            lines.append(f"- {row['label']}, {who}: `{unquote(result['url'])}`")
    for row in [r for r in large["pages"] if r.get("cold_explain")]:
        bureau = row["cold"].get("bureau", {})
        if "median_ms" not in bureau:
            continue
        lines += [
            "",
            f"### {row['label']}, cold (ours/admin {row['cold_ratio']:.2f}, not judged)",
            "",
            f"Bureau user, cache emptied: {bureau['median_ms']:.1f} ms a request, of which "
            f"{bureau['sql_ms']:.1f} ms in {bureau['queries']} SQL queries.",
            "",
            *explained(row["cold_explain"]),
        ]
    lines += missed_sections(large["pages"])
    return "\n".join(lines) + "\n"


def _child(args, url: str, *, households, persons, log_rows, household_years) -> dict:
    argv = ["--database-url", url, "--households", str(households), "--persons", str(persons)]
    argv += ["--log-rows", str(log_rows), "--years", str(args.years)]
    argv += ["--household-years", str(household_years)]
    argv += ["--repeat", str(args.repeat), "--warmup", str(args.warmup), "--seed", str(args.seed)]
    argv += ["--regenerate"] if args.regenerate else []
    return common.run_child(
        "outreach", argv, f"at {log_rows:,} log rows in {datagen.database_name(url)}"
    )


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench outreach", description=__doc__)
    parser.add_argument("--log-rows", type=int, default=1_000_000, help="size of the data set")
    parser.add_argument("--years", type=int, default=5, help="years of logs ending today")
    parser.add_argument(
        "--household-years", type=int, default=5, help="years on the timeline household"
    )
    parser.add_argument("--households", type=int, default=40_000)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--small-log-rows", type=int, default=10_000)
    parser.add_argument("--small-household-years", type=int, default=1)
    parser.add_argument("--small-households", type=int, default=400)
    parser.add_argument("--small-persons", type=int, default=1_000)
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
        if not datagen.is_postgres(args.database_url):
            raise SystemExit("The outreach benchmark needs PostgreSQL (COPY).")
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
        )
    datagen.ensure_postgres(args.database_url)
    large = _child(
        args,
        args.database_url,
        households=args.households,
        persons=args.persons,
        log_rows=args.log_rows,
        household_years=args.household_years,
    )
    found = targets(small, large)
    text = report(small, large, argv=argv, found=found)
    print(text)
    common.record(found)
    if not args.no_write:
        write_section(text, args.output, SECTION)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
