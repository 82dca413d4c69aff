"""Service-card entries on the household timeline (see residents.timeline): cards issued
to the household's members, cards reported lost or revoked, each use of a member's card
(date, merchant, service, benefit), and the household's two-way service surveys; and the
buttons to record consent, issue a card or record a survey where the user may.

``entries`` follows the timeline's contract: at most ``limit`` entries dated strictly
before ``before`` (``None``: from the newest), newest first, limited to what ``user`` may
see. It costs at most five queries whatever the household's history: issues, status
changes, uses, surveys and their answers."""

from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from network.access import can_change_area, scope_for
from residents.models import Person, PersonStatus
from residents.timeline import TimelineEntry, detail_url
from services.models import (
    CardScheme,
    CardStatus,
    CardUse,
    Consent,
    ServiceCard,
    ServiceCategory,
    Survey,
    SurveyAnswer,
    SurveyDirection,
)

# Order within a day, after outreach's visits (1), pairings (2) and consultations (3).
CARD_RANK, STATUS_RANK, USE_RANK, SURVEY_RANK = 4, 5, 6, 7
CENT = Decimal("0.01")


def _number(raw: str) -> str:
    return ServiceCard(number=raw).display_number


def _before(field: str, before) -> dict:
    return {f"{field}__lt": before} if before is not None else {}


def entries(household, user, *, before=None, limit=21) -> list[TimelineEntry]:
    found = []
    if user.has_perm("services.view_servicecard"):
        found += _card_entries(household, user, before, limit)
    if user.has_perm("services.view_carduse"):
        found += _use_entries(household, user, before, limit)
    if user.has_perm("services.view_survey"):
        found += _survey_entries(household, user, before, limit)
    found.sort(key=lambda e: e.sort_key, reverse=True)
    return found[:limit]


def _card_entries(household, user, before, limit) -> list[TimelineEntry]:
    """A card issued (or reissued for a lost one), and a card reported lost or revoked:
    two queries, each cut at ``limit``."""
    cards = ServiceCard.objects.visible_to(user).filter(holder__household=household)
    url = detail_url("services:card-detail")
    schemes = {value: str(label) for value, label in CardScheme.choices}
    kind = _("Service card")
    result = []
    issued = (
        cards.filter(**_before("issued_on", before))
        .order_by("-issued_on", "-pk")
        .values_list("pk", "number", "scheme", "issued_on", "holder__name", "replaces_id")[:limit]
    )
    for pk, number, scheme, on, name, replaces in issued:
        title = (
            _("Card %(number)s reissued to %(name)s")
            if replaces
            else _("Card %(number)s issued to %(name)s")
        ) % {"number": _number(number), "name": name}
        result.append(
            TimelineEntry(
                on=on,
                sort_key=(on, CARD_RANK, pk),
                kind=kind,
                title=title,
                detail=schemes.get(scheme, scheme),
                url=url(pk),
            )
        )
    changed = (
        cards.filter(
            status__in=[CardStatus.LOST, CardStatus.REVOKED],
            status_changed_on__isnull=False,
            **_before("status_changed_on", before),
        )
        .order_by("-status_changed_on", "-pk")
        .values_list(
            "pk", "number", "status", "status_changed_on", "holder__name", "status_reason"
        )[:limit]
    )
    for pk, number, status, on, name, reason in changed:
        title = (
            _("Card %(number)s of %(name)s reported lost")
            if status == CardStatus.LOST
            else _("Card %(number)s of %(name)s revoked")
        ) % {"number": _number(number), "name": name}
        result.append(
            TimelineEntry(
                on=on,
                sort_key=(on, STATUS_RANK, pk),
                kind=kind,
                title=title,
                detail=reason,
                url=url(pk),
                badges=[_("lost") if status == CardStatus.LOST else _("revoked")],
            )
        )
    return result


def _use_entries(household, user, before, limit) -> list[TimelineEntry]:
    """Each use of a member's card (voided uses left out): one query."""
    rows = (
        CardUse.objects.visible_to(user)
        .filter(card__holder__household=household, archived_at__isnull=True)
        .filter(**_before("used_on", before))
        .order_by("-used_on", "-pk")
        .values_list(
            "pk",
            "used_on",
            "merchant__name",
            "item__description",
            "card__holder__name",
            "value_before",
            "value_after",
        )[:limit]
    )
    url = detail_url("services:use-detail")
    kind = _("Card use")
    result = []
    for pk, on, merchant, service, name, before_value, after_value in rows:
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


def _survey_entries(household, user, before, limit) -> list[TimelineEntry]:
    """The household's two-way service surveys with what it wants and offers: two
    queries (the surveys, then their answers)."""
    surveys = list(
        Survey.objects.visible_to(user)
        .filter(household=household, archived_at__isnull=True)
        .filter(**_before("surveyed_on", before))
        .order_by("-surveyed_on", "-pk")
        .values_list("pk", "surveyed_on")[:limit]
    )
    if not surveys:
        return []
    categories = {value: str(label) for value, label in ServiceCategory.choices}
    said: dict[int, dict[str, list[str]]] = {pk: {} for pk, _on in surveys}
    answers = (
        SurveyAnswer.objects.filter(survey_id__in=list(said))
        .order_by("survey_id", "direction", "category")
        .values_list("survey_id", "direction", "category")
    )
    for survey_id, direction, category in answers:
        said[survey_id].setdefault(direction, []).append(categories.get(category, category))
    url = detail_url("services:survey-detail")
    kind = _("Two-way service survey")
    result = []
    for pk, on in surveys:
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


def actions(household, user) -> list[tuple[str, str]]:
    """Buttons above the timeline: record a survey; for staff who issue cards in the
    household's community, one button for the current members whose consent is missing
    (without it no card is issued) and one for those with consent but no active card. One
    query at most."""
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
    members = (
        Person.objects.filter(
            household=household, archived_at__isnull=True, status=PersonStatus.ACTIVE
        )
        .annotate(
            consented=Exists(
                Consent.objects.filter(person=OuterRef("pk"), withdrawn_on__isnull=True)
            ),
            active_cards=Count("service_cards", filter=Q(service_cards__status=CardStatus.ACTIVE)),
        )
        .order_by("pk")
        .values_list("pk", "name", "consented", "active_cards")
    )
    to_consent, to_issue = [], []
    for pk, name, consented, active_cards in members:
        if not consented:
            to_consent.append((pk, name))
        elif not active_cards:
            to_issue.append((pk, name))
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
