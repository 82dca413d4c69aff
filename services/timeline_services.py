"""Service-card entries on the household timeline (see residents.timeline): cards issued
to the household's members, cards reported lost or revoked, each use of a member's card
(date, merchant, service, benefit), and the household's two-way service surveys; and the
buttons to record consent, issue a card or record a survey where the user may.

``entries`` follows the timeline's contract: at most ``limit`` entries dated strictly
before ``before`` (``None``: from the newest), newest first, limited to what ``user`` may
see. It costs one query whatever the household's history: cards (issued, lost or
revoked), uses, and surveys with their answers, in one UNION ALL."""

from decimal import Decimal
from urllib.parse import urlencode

from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.urls import reverse
from django.utils.translation import gettext as _

from network.access import can_change_area, scope_for
from residents.models import PersonStatus
from residents.timeline import TimelineEntry, current_members, detail_url
from services.models import (
    CardScheme,
    CardStatus,
    CardUse,
    Consent,
    ServiceCard,
    ServiceCategory,
    Survey,
    SurveyDirection,
)

# Order within a day, after outreach's visits (1), pairings (2) and consultations (3).
CARD_RANK, STATUS_RANK, USE_RANK, SURVEY_RANK = 4, 5, 6, 7
CENT = Decimal("0.01")
LOST_OR_REVOKED = (CardStatus.LOST, CardStatus.REVOKED)


def _number(raw: str) -> str:
    return ServiceCard(number=raw).display_number


def _before(field: str, before) -> dict:
    return {f"{field}__lt": before} if before is not None else {}


# The columns of the one query: each kind of record gives its own in the same places
# (NULL where it has nothing), so the three kinds come back in one UNION ALL.
COLUMNS = ("t_source", "t_pk", "t_on", "t_on2", "t_a", "t_b", "t_c", "t_d", "t_n", "t_x", "t_y")
CARD, USE, SURVEY = 1, 2, 3


def _columns(source, pk="pk", on=None, on2=None, a=None, b=None, c=None, d=None, n=None, x=None):
    """``COLUMNS`` for one kind of record: field paths, or NULL of the column's type."""
    typed = {
        "t_on": (on, models.DateField()),
        "t_on2": (on2, models.DateField()),
        "t_a": (a, models.CharField()),
        "t_b": (b, models.CharField()),
        "t_c": (c, models.CharField()),
        "t_d": (d, models.CharField()),
        "t_n": (n, models.BigIntegerField()),
        "t_x": (x[0] if x else None, models.DecimalField()),
        "t_y": (x[1] if x else None, models.DecimalField()),
    }
    columns = {"t_source": Value(source), "t_pk": F(pk)}
    for name, (path, field) in typed.items():
        columns[name] = F(path) if path else Value(None, output_field=field)
    return columns


def entries(household, user, *, before=None, limit=21) -> list[TimelineEntry]:
    """Cards issued, lost or revoked, card uses and surveys, as ``user`` may see them: one
    query (each kind cut at its last ``limit`` by a subquery, then all in one UNION ALL)."""
    parts = []
    if user.has_perm("services.view_servicecard"):
        parts.append(_cards(household, user, before, limit))
    if user.has_perm("services.view_carduse"):
        parts.append(_uses(household, user, before, limit))
    if user.has_perm("services.view_survey"):
        parts.append(_surveys(household, user, before, limit))
    if not parts:
        return []
    rows: dict[int, list] = {CARD: [], USE: [], SURVEY: []}
    for source, *row in parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]:
        rows[source].append(row)
    found = [
        *_card_entries(rows[CARD], before),
        *_use_entries(rows[USE]),
        *_survey_entries(rows[SURVEY]),
    ]
    found.sort(key=lambda e: e.sort_key, reverse=True)
    return found[:limit]


def _cards(household, user, before, limit):
    """The cards among the ``limit`` last issued or the ``limit`` last lost or revoked. Each
    gives its entries; ``entries`` keeps the newest ``limit`` of them, which are the newest
    of all (a card of neither set has nothing newer)."""
    cards = ServiceCard.objects.visible_to(user).filter(holder__household=household)
    last_issued = (
        cards.filter(**_before("issued_on", before)).order_by("-issued_on", "-pk").values("pk")
    )
    last_changed = (
        cards.filter(
            status__in=LOST_OR_REVOKED,
            status_changed_on__isnull=False,
            **_before("status_changed_on", before),
        )
        .order_by("-status_changed_on", "-pk")
        .values("pk")
    )
    chosen = Q(pk__in=last_issued[:limit]) | Q(pk__in=last_changed[:limit])
    return (
        ServiceCard.objects.filter(chosen)
        .annotate(
            **_columns(
                CARD,
                on="issued_on",
                on2="status_changed_on",
                a="number",
                b="scheme",
                c="holder__name",
                d="status",
                n="replaces_id",
                x=None,
            ),
            t_reason=F("status_reason"),
        )
        .order_by()
        .values_list(*COLUMNS, "t_reason")
    )


def _uses(household, user, before, limit):
    """The ``limit`` last uses of a member's card (voided uses left out)."""
    last = (
        CardUse.objects.visible_to(user)
        .filter(card__holder__household=household, archived_at__isnull=True)
        .filter(**_before("used_on", before))
        .order_by("-used_on", "-pk")
        .values("pk")
    )
    return (
        CardUse.objects.filter(pk__in=last[:limit])
        .annotate(
            **_columns(
                USE,
                on="used_on",
                a="merchant__name",
                b="item__description",
                c="card__holder__name",
                x=("value_before", "value_after"),
            ),
            t_reason=Value(None, output_field=models.CharField()),
        )
        .order_by()
        .values_list(*COLUMNS, "t_reason")
    )


def _surveys(household, user, before, limit):
    """The household's ``limit`` last surveys, a row for each answer (one for none)."""
    last = (
        Survey.objects.visible_to(user)
        .filter(household=household, archived_at__isnull=True)
        .filter(**_before("surveyed_on", before))
        .order_by("-surveyed_on", "-pk")
        .values("pk")
    )
    return (
        Survey.objects.filter(pk__in=last[:limit])
        .annotate(
            **_columns(SURVEY, on="surveyed_on", a="answers__direction", b="answers__category"),
            t_reason=Value(None, output_field=models.CharField()),
        )
        .order_by()
        .values_list(*COLUMNS, "t_reason")
    )


def _card_entries(rows, before) -> list[TimelineEntry]:
    """A card issued (or reissued for a lost one), and a card reported lost or revoked."""
    url = detail_url("services:card-detail")
    schemes = {value: str(label) for value, label in CardScheme.choices}
    kind = _("Service card")
    result = []
    for pk, issued_on, changed_on, number, scheme, name, status, replaces, *_unused, reason in rows:
        if before is None or issued_on < before:
            title = (
                _("Card %(number)s reissued to %(name)s")
                if replaces
                else _("Card %(number)s issued to %(name)s")
            ) % {"number": _number(number), "name": name}
            result.append(
                TimelineEntry(
                    on=issued_on,
                    sort_key=(issued_on, CARD_RANK, pk),
                    kind=kind,
                    title=title,
                    detail=schemes.get(scheme, scheme),
                    url=url(pk),
                )
            )
        if (
            status in LOST_OR_REVOKED
            and changed_on is not None
            and (before is None or changed_on < before)
        ):
            title = (
                _("Card %(number)s of %(name)s reported lost")
                if status == CardStatus.LOST
                else _("Card %(number)s of %(name)s revoked")
            ) % {"number": _number(number), "name": name}
            result.append(
                TimelineEntry(
                    on=changed_on,
                    sort_key=(changed_on, STATUS_RANK, pk),
                    kind=kind,
                    title=title,
                    detail=reason,
                    url=url(pk),
                    badges=[_("lost") if status == CardStatus.LOST else _("revoked")],
                )
            )
    return result


def _use_entries(rows) -> list[TimelineEntry]:
    """Each use of a member's card: date, merchant, service, benefit."""
    url = detail_url("services:use-detail")
    kind = _("Card use")
    result = []
    for pk, on, _on2, merchant, service, name, _d, _n, before_value, after_value, _r in rows:
        before_value, after_value = Decimal(before_value), Decimal(after_value)
        benefit = (before_value - after_value).quantize(CENT)
        detail = _("%(name)s · value ¥%(value)s, paid ¥%(paid)s, benefit ¥%(benefit)s") % {
            "name": name,
            "value": before_value.quantize(CENT),
            "paid": after_value.quantize(CENT),
            "benefit": benefit,
        }
        result.append(
            TimelineEntry(
                on=on,
                sort_key=(on, USE_RANK, pk),
                kind=kind,
                title=f"{merchant} · {service}",
                detail=detail,
                url=url(pk),
            )
        )
    return result


def _survey_entries(rows) -> list[TimelineEntry]:
    """The two-way service surveys with what the household wants and offers."""
    categories = {value: str(label) for value, label in ServiceCategory.choices}
    surveys: dict[int, object] = {}
    said: dict[int, dict[str, list[str]]] = {}
    for pk, on, _on2, direction, category, *_unused in sorted(
        rows, key=lambda r: (r[0], r[3] or "", r[4] or "")
    ):
        surveys[pk] = on
        answers = said.setdefault(pk, {})
        if direction is not None:
            answers.setdefault(direction, []).append(categories.get(category, category))
    url = detail_url("services:survey-detail")
    kind = _("Two-way service survey")
    result = []
    for pk, on in surveys.items():
        parts = []
        if said[pk].get(SurveyDirection.WANTS):
            parts.append(
                _("wants: %(list)s") % {"list": "、".join(said[pk][SurveyDirection.WANTS])}
            )
        if said[pk].get(SurveyDirection.OFFERS):
            parts.append(
                _("can offer: %(list)s") % {"list": "、".join(said[pk][SurveyDirection.OFFERS])}
            )
        result.append(
            TimelineEntry(
                on=on,
                sort_key=(on, SURVEY_RANK, pk),
                kind=kind,
                title=_("Two-way service survey"),
                detail=" · ".join(parts),
                url=url(pk),
            )
        )
    return result


# ---------------------------------------------------------------- buttons


def may_survey(user, household) -> bool:
    """Whether ``user`` may record a survey of ``household``: the rule of
    ``Survey.objects.changeable_by`` (staff where they manage, a liaison in their own
    community), without a query."""
    if not user.has_perms(["services.add_survey", "services.add_surveyanswer"]):
        return False
    community = household.community
    if can_change_area(user, community):
        return True
    return any(community.path.startswith(p) for p in scope_for(user).liaison_only_paths)


def _one_button(household, pks_names, single, several, url) -> tuple[str, str]:
    """One button for members who all need the same step: named for one (it opens their
    page), counted for several (it opens the issue page listing the household's members
    with their consent and cards)."""
    pk, name = pks_names[0]
    if len(pks_names) == 1:
        return single % {"name": name}, url(pk)
    members = reverse("services:card-issue") + "?" + urlencode({"household": household.pk})
    return several % {"count": len(pks_names)}, members


def member_annotations() -> dict:
    """What the buttons need to know of each member (``residents.timeline`` reads the
    members once with these): a consent not withdrawn, an active card."""
    return {
        "services_consented": Exists(
            Consent.objects.filter(person=OuterRef("pk"), withdrawn_on__isnull=True)
        ),
        "services_active_card": Exists(
            ServiceCard.objects.filter(holder=OuterRef("pk"), status=CardStatus.ACTIVE)
        ),
    }


def actions(household, user) -> list[tuple[str, str]]:
    """Buttons above the timeline: record a survey; for staff who issue cards in the
    household's community, one button for the current members whose consent is missing
    (without it no card is issued) and one for those with consent but no active card. No
    query on the household page (its members are read once, ``member_annotations``); one
    elsewhere."""
    if getattr(household, "is_archived", False):
        return []
    found = []
    if may_survey(user, household):
        url = reverse("services:survey-create") + "?" + urlencode({"household": household.pk})
        found.append((_("Record a two-way service survey"), url))
    may_consent = user.has_perm("services.add_consent")
    may_issue = user.has_perm("services.add_servicecard")
    if not (may_consent or may_issue) or not can_change_area(user, household.community):
        return found
    to_consent, to_issue = [], []
    for person in current_members(household):  # the members the page read, annotated
        if person.status != PersonStatus.ACTIVE:
            continue
        if not person.services_consented:
            to_consent.append((person.pk, person.name))
        elif not person.services_active_card:
            to_issue.append((person.pk, person.name))
    if to_consent and may_consent:
        found.append(
            _one_button(
                household,
                to_consent,
                _("Record the consent of %(name)s"),
                _("Record consents (%(count)s)"),
                lambda pk: reverse("services:consent-person", kwargs={"pk": pk}),
            )
        )
    if to_issue and may_issue:
        found.append(
            _one_button(
                household,
                to_issue,
                _("Issue a service card to %(name)s"),
                _("Issue service cards (%(count)s)"),
                lambda pk: reverse("services:card-issue") + "?" + urlencode({"person": pk}),
            )
        )
    return found
