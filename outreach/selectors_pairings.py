"""Reading pairings (结对) the way a user may: the list with each pairing's visits this year
against what its rhythm expects so far, the pairings whose official has left (awaiting
handover), a user's own pairings and the visits due under them, and a pairing's history.

One figure, one definition: "expected so far" is computed in SQL by ``with_progress`` and
used by the list, the detail page, the export, the "behind schedule" filter and the home
panel alike.

Dates are inclusive, as for posts and memberships: a pairing that ends on a day is still in
force that day, and its successor starts the day after.
"""

import calendar
import datetime
import re

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import NotSupportedError
from django.db.models import (
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from network.access import users_visible_to
from network.models import Post, Role, current_post_q
from outreach.common import filter_by_area_group_dates
from outreach.models import Assistance, Liaison, Pairing, Visit
from outreach.selectors_visits import visible_by_area_ids
from residents.models import Household, Person
from residents.pages import HistoryEntry, history_entries

PARTNER_FIELDS = ("partner_user", "partner_liaison", "partner_person")
HISTORY_LIMIT = 50
RELATED = (
    "community",
    "household",
    "person",
    "partner_user",
    "partner_liaison",
    "partner_liaison__community",
    "partner_person",
    "partner_person__community",
)
# What a row of the list (and of its export) shows: the partners' own areas are not, and two
# joins fewer keep the page's query quick to plan.
LIST_RELATED = RELATED[:5] + ("partner_person",)
# The columns those rows read (the list, its export and ``_decorate`` in the views).
LIST_FIELDS = (
    "archived_at",
    "start_date",
    "end_date",
    "community__name",
    "community__path",
    "household__address",
    "person__name",
    "kind",
    "partner_user__real_name",
    "partner_user__first_name",
    "partner_user__last_name",
    "partner_user__username",
    "partner_liaison__name",
    "partner_person__name",
    "visits_per_year",
    "note",
)


# ---------------------------------------------------------------- who and what


def partner_name(pairing: Pairing) -> str:
    if pairing.partner_user_id:
        return pairing.partner_user.display_name
    if pairing.partner_liaison_id:
        return pairing.partner_liaison.name
    if pairing.partner_person_id:
        return pairing.partner_person.name
    return ""


def partner_type(pairing: Pairing) -> str:
    if pairing.partner_user_id:
        return _("Official")
    if pairing.partner_liaison_id:
        return _("Liaison")
    if pairing.partner_person_id:
        return _("Volunteer")
    return ""


def has_ended(pairing: Pairing, today: datetime.date | None = None) -> bool:
    """Ended: its last day has passed."""
    today = today or timezone.localdate()
    return pairing.end_date is not None and pairing.end_date < today


def not_ended_q(today: datetime.date | None = None, prefix: str = "") -> Q:
    today = today or timezone.localdate()
    return Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": today})


def pairings_for(user):
    """Pairings a user may see, with what a row shows, newest first."""
    return Pairing.objects.visible_to(user).select_related(*RELATED).order_by("-start_date", "-id")


def pairing_rows(user, areas=None):
    """The pairings of the list and its export: those ``pairings_for`` gives, with only the
    columns a row shows, kept by the ids of the user's areas (``visible_by_area_ids``)."""
    return (
        visible_by_area_ids(Pairing.objects.all(), user, areas)
        .select_related(*LIST_RELATED)
        .only(*LIST_FIELDS)
        .order_by("-start_date", "-id")
    )


# ---------------------------------------------------------------- visits done and expected


class DayNumber(Func):
    """A date as a whole number of days, so that SQL subtracts two dates the same way on
    SQLite and PostgreSQL (the two databases Tongxin runs on)."""

    arity = 1
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("DayNumber is written for SQLite and PostgreSQL only.")

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            **extra_context,
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="((%(expressions)s)::date - DATE '2000-01-01')",
            **extra_context,
        )


def year_start(today: datetime.date) -> datetime.date:
    return datetime.date(today.year, 1, 1)


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def expected_so_far(visits_per_year: int, start, end, today: datetime.date) -> int:
    """The number of visits a pairing should have made this year by ``today``: its visits a
    year prorated over the days of this year it has been in force (``start`` to ``end``,
    both inclusive), rounded down. The same rule as ``with_progress``, for one pairing in
    Python (a form's preview, a test's hand count)."""
    begin = max(start, year_start(today))
    finish = min(end or today, today)
    elapsed = max((finish - begin).days + 1, 0)
    return visits_per_year * elapsed // days_in_year(today.year)


def _date(day: datetime.date) -> Value:
    return Value(day, output_field=DateField())


def visits_done_this_year(today: datetime.date):
    """Visits recorded under the pairing this year up to ``today`` (archived ones left out)."""
    visits = (
        Visit.objects.filter(
            pairing=OuterRef("pk"),
            archived_at__isnull=True,
            visited_on__gte=year_start(today),
            visited_on__lte=today,
        )
        .order_by()
        .values("pairing")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(visits, output_field=IntegerField()), 0)


def visits_expected_so_far(today: datetime.date):
    """``expected_so_far`` as an SQL expression over each row."""
    begin = Greatest(F("start_date"), _date(year_start(today)))
    finish = Least(Coalesce(F("end_date"), _date(today)), _date(today))
    elapsed = DayNumber(finish) - DayNumber(begin) + Value(1)
    return ExpressionWrapper(
        F("visits_per_year") * Greatest(elapsed, Value(0)) / Value(days_in_year(today.year)),
        output_field=IntegerField(),
    )


def with_progress(pairings, today: datetime.date | None = None):
    """Annotate ``visits_done`` (this year) and ``visits_expected`` (so far this year)."""
    today = today or timezone.localdate()
    return pairings.annotate(
        visits_done=visits_done_this_year(today),
        visits_expected=visits_expected_so_far(today),
    )


def behind_q() -> Q:
    """On rows annotated by ``with_progress``: fewer visits than expected so far."""
    return Q(visits_done__lt=F("visits_expected"))


# ---------------------------------------------------------------- the list


def filter_pairings(records, filters: dict, *, today: datetime.date | None = None):
    """Apply the list's filters (already validated by the filter form) to ``records``
    annotated by ``with_progress``. The date range bounds the start date."""
    today = today or timezone.localdate()
    records = filter_by_area_group_dates(
        records, filters, area_field="community", date_field="start_date", group_field=None
    )
    if filters.get("kind"):
        records = records.filter(kind=filters["kind"])
    if filters.get("partner") is not None:
        records = records.filter(partner_user=filters["partner"])
    status = filters.get("status")
    if status == "current":
        records = records.filter(not_ended_q(today))
    elif status == "ended":
        records = records.filter(end_date__lt=today)
    if filters.get("behind"):
        records = records.filter(not_ended_q(today)).filter(behind_q())
    return records


# ---------------------------------------------------------------- choosing a household


def household_search(user, text: str, limit: int = 20):
    """Households the user manages whose address, household number or member's name holds
    ``text``: the ones a pairing can be recorded for."""
    if not text:
        return []
    members = Person.objects.filter(
        household=OuterRef("pk"), archived_at__isnull=True, name__contains=text
    )
    households = (
        Household.objects.changeable_by(user)
        .current()
        .filter(Q(address__contains=text) | Q(ledger_number__contains=text) | Exists(members))
        .select_related("community")
        .order_by("community__path", "address", "pk")
    )
    return list(households[:limit])


# ---------------------------------------------------------------- one pairing


def pairing_visits(pairing: Pairing, user):
    """The visits made under the pairing that the user may see, newest first, each with
    the value of the assistance given on it."""
    return (
        Visit.objects.visible_to(user)
        .filter(pairing=pairing, archived_at__isnull=True)
        .annotate(assistance_total=Sum("assistance__value"))
        .order_by("-visited_on", "-id")
    )


def assistance_total(pairing: Pairing, user):
    """Yuan of assistance given on the visits under the pairing (None: nothing given)."""
    return (
        Assistance.objects.visible_to(user)
        .filter(visit__pairing=pairing, visit__archived_at__isnull=True)
        .aggregate(total=Sum("value"))["total"]
    )


def find_duplicate(pairing: Pairing, today: datetime.date | None = None) -> Pairing | None:
    """Another pairing still in force of the same partner with the same household."""
    today = today or timezone.localdate()
    partner = {name: getattr(pairing, f"{name}_id") for name in PARTNER_FIELDS}
    partner = {name: value for name, value in partner.items() if value}
    if len(partner) != 1 or not pairing.household_id:
        return None
    return (
        Pairing.objects.filter(household_id=pairing.household_id, archived_at__isnull=True)
        .filter(not_ended_q(today))
        .filter(**partner)
        .exclude(pk=pairing.pk)
        .order_by("start_date")
        .first()
    )


def check_pairing(pairing: Pairing, today: datetime.date | None = None) -> None:
    """The rules of a pairing, raised as one ValidationError keyed by form field: exactly
    one partner; the paired person lives in the household; a volunteer partner is one
    (and not of this household); it does not start in the future; and the partner is not
    already paired with the household."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}

    def refuse(key, message):
        errors.setdefault(key, []).append(message)

    partners = [name for name in PARTNER_FIELDS if getattr(pairing, f"{name}_id")]
    if len(partners) != 1:
        refuse(
            NON_FIELD_ERRORS,
            _("Choose exactly one partner: an official, a liaison or a volunteer."),
        )
    if pairing.person_id and pairing.person.household_id != pairing.household_id:
        refuse(
            "person",
            _("%(name)s is not a member of this household.") % {"name": pairing.person.name},
        )
    volunteer = pairing.partner_person if pairing.partner_person_id else None
    if volunteer is not None:
        if not volunteer.is_volunteer:
            refuse(
                "partner_person",
                _(
                    "%(name)s is not registered as a volunteer; mark them as one in the "
                    "register first."
                )
                % {"name": volunteer.name},
            )
        elif volunteer.household_id == pairing.household_id:
            refuse(
                "partner_person",
                _("%(name)s lives in this household and cannot be its volunteer partner.")
                % {"name": volunteer.name},
            )
    if pairing.start_date and pairing.start_date > today:
        refuse("start_date", _("A pairing is recorded when it begins, not before."))
    if len(partners) == 1:
        duplicate = find_duplicate(pairing, today)
        if duplicate is not None:
            refuse(
                NON_FIELD_ERRORS,
                _("%(partner)s is already paired with this household (since %(date)s).")
                % {
                    "partner": partner_name(pairing),
                    "date": duplicate.start_date.isoformat(),
                },
            )
    if errors:
        raise ValidationError(errors)


# ---------------------------------------------------------------- handover


def covering_post_exists(prefix: str = "", today: datetime.date | None = None) -> Exists:
    """Whether the official of each pairing row holds a current post at the pairing's
    community or above it (the post area's path is a prefix of the community's path)."""
    posts = (
        Post.objects.filter(
            current_post_q(on=today),
            user=OuterRef(f"{prefix}partner_user"),
            area__is_active=True,
        )
        .annotate(
            pairing_path=ExpressionWrapper(
                OuterRef(f"{prefix}community__path"), output_field=CharField()
            )
        )
        .filter(pairing_path__startswith=F("area__path"))
    )
    return Exists(posts)


def awaiting_handover_q(today: datetime.date | None = None) -> Q:
    """Pairings whose official no longer holds a post covering the household, or whose
    liaison record has been archived."""
    left = Q(partner_user__isnull=False) & (
        ~covering_post_exists(today=today) | Q(partner_user__is_active=False)
    )
    return left | Q(partner_liaison__archived_at__isnull=False)


def pairings_awaiting_handover(user, today: datetime.date | None = None):
    """Pairings in force in the user's scope whose partner has left: to be handed over to
    a successor, not silently dropped. A lazy queryset, one query however long."""
    today = today or timezone.localdate()
    return (
        pairings_for(user)
        .filter(archived_at__isnull=True)
        .filter(not_ended_q(today))
        .filter(awaiting_handover_q(today))
        .order_by("community__path", "household__address", "id")
    )


def handover_reason(pairing: Pairing) -> str:
    if pairing.partner_liaison_id and pairing.partner_liaison.archived_at:
        return _("The liaison record has been archived.")
    if pairing.partner_user_id and not pairing.partner_user.is_active:
        return _("The account has been closed.")
    return _("No longer holds a post covering this community.")


def successor_users(by, pairing: Pairing, today: datetime.date | None = None):
    """Officials ``by`` may see who hold a current staff post at the pairing's community
    or above it (not the one handing over)."""
    today = today or timezone.localdate()
    covering = Post.objects.filter(
        current_post_q(on=today),
        area_id__in=pairing.community.ancestor_ids(),
        area__is_active=True,
    ).exclude(role=Role.LIAISON)
    users = users_visible_to(by).filter(is_active=True, pk__in=covering.values("user_id"))
    if pairing.partner_user_id:
        users = users.exclude(pk=pairing.partner_user_id)
    return users.order_by("real_name", "username")


def successor_liaisons(by, pairing: Pairing):
    """Liaison records ``by`` may see, not archived, other than the pairing's own."""
    liaisons = Liaison.objects.visible_to(by).current().select_related("community")
    if pairing.partner_liaison_id:
        liaisons = liaisons.exclude(pk=pairing.partner_liaison_id)
    return liaisons.order_by("community__path", "name", "id")


# ---------------------------------------------------------------- a user's own pairings


def pairings_of(user, today: datetime.date | None = None):
    """Pairings in force today where the user is the partner, as an official or through a
    liaison record linked to their account."""
    today = today or timezone.localdate()
    own = Q(partner_user=user) | Q(
        partner_liaison__user=user, partner_liaison__archived_at__isnull=True
    )
    return (
        pairings_for(user)
        .filter(own, archived_at__isnull=True, start_date__lte=today)
        .filter(not_ended_q(today))
    )


def visits_due(user, today: datetime.date | None = None, *, limit: int | None = None):
    """The user's own pairings behind their rhythm: a list of (pairing, expected, done)
    with done < expected, the furthest behind first. One query."""
    today = today or timezone.localdate()
    records = (
        with_progress(pairings_of(user, today), today)
        .filter(behind_q())
        .order_by((F("visits_expected") - F("visits_done")).desc(), "household__address", "id")
    )
    if limit is not None:
        records = records[:limit]
    return [(p, p.visits_expected, p.visits_done) for p in records]


def official_choices(user):
    """Officials a pairing may name: accounts the user may see that hold a current staff
    post (liaisons are named through their liaison record)."""
    staff = Post.objects.current().exclude(role=Role.LIAISON).values("user_id")
    return users_visible_to(user).filter(is_active=True, pk__in=staff)


# ---------------------------------------------------------------- history


_REASONS = [
    (
        re.compile(r"handed over to (?P<name>.+)", re.S),
        lambda m: _("handed over to %(name)s") % m.groupdict(),
    ),
    (
        re.compile(r"handed over from (?P<name>.+)", re.S),
        lambda m: _("handed over from %(name)s") % m.groupdict(),
    ),
]


def reason_text(reason: str) -> str:
    """The change reasons ``operations_pairings`` records (in English, in the database),
    in the user's language; others as stored."""
    known = {
        "created": "",  # the entry says "created" already
        "archived": _("archived"),
        "restored": _("restored"),
        "ended": _("ended"),
    }
    if reason in known:
        return known[reason]
    for pattern, text in _REASONS:
        match = pattern.fullmatch(reason)
        if match:
            return text(match)
    return reason


def pairing_history(pairing: Pairing, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """Who changed what and when, newest first (one query)."""
    records = list(
        pairing.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    return history_entries(
        records,
        hidden=("updated_at", "created_at"),
        reason_of=reason_text,
        drop_oldest=len(records) > limit,
    )
