"""Reading consents and service cards the way a user may: the filtered lists, the statuses
as shown today, a card's uses and history, a person's consents, and the persons a card may
be issued to."""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _

from network.access import scope_for
from network.models import Area
from residents.models import Person
from residents.pages import history_entries
from residents.selectors import Viewer, reason_text, search_persons
from services.cards import card_digits
from services.forms_cards import CURRENT, EXPIRED, WITHDRAWN
from services.models import CardStatus, CardUse, Consent, ServiceCard
from services.uses import refuse_card

PERSON_CHOICES = 20  # persons offered after a search on the issue page
# A search box on services pages looks up names, never ID numbers.
NAME_SEARCH = Viewer(sensitive=False, full_id=False, staff=False)


def _card_number_part(text: str) -> str:
    """The digits of (a part of) a card number as typed or scanned (full-width digits,
    groups), or "" when ``text`` is not one."""
    compact = card_digits(text)
    return compact if compact.isascii() and compact.isdigit() else ""


def _persons_named(text: str):
    """Persons whose name (or its pinyin, or initials) or address holds ``text``: the
    register's own search, with the rights of a viewer who sees no ID digit."""
    return search_persons(Person.objects.all(), text, NAME_SEARCH).values("pk")


# ---------------------------------------------------------------- cards


def status_q(status: str, today: datetime.date) -> Q:
    """Cards whose status as shown today is ``status`` (``expired``: active, past its date)."""
    if status == EXPIRED:
        return Q(status=CardStatus.ACTIVE, valid_until__lt=today)
    if status == CardStatus.ACTIVE:
        return Q(status=CardStatus.ACTIVE, valid_until__gte=today)
    return Q(status=status)


# ---------------------------------------------------------------- whose records


def resident_area_q(user, area_field: str) -> Q:
    """``visible_to`` of a record scoped by a resident's community (``area_field``:
    "person__community", "holder__community", ...), as a filter on the community's id
    instead of a join to the areas by path: the same rule (the community lies under an area
    where the user holds a post, ``network.access.visible_q``) applied to the areas, one
    small query, so that a list and its count join no area and use the indexes of their own
    order. When the user sees every area there is (the district bureau of a one-district
    installation), every record is visible and there is nothing to filter: no join at all.
    That holds only because a resident's community is never empty (``Person.community`` is
    not nullable): a record scoped by a nullable area field must not use this."""
    scope = scope_for(user)
    if scope.everything:
        return Q()
    if not scope.visible_paths:
        return Q(pk__in=[])
    areas = list(Area.objects.order_by().values_list("pk", "path"))
    ids = [pk for pk, path in areas if path.startswith(scope.visible_paths)]
    if len(ids) == len(areas):
        return Q()  # every community is one the user sees
    return Q(**{f"{area_field}_id__in": ids})


# ---------------------------------------------------------------- cards


def cards_for(user):
    """Cards a user may see, with what a row shows, newest first."""
    return (
        ServiceCard.objects.filter(resident_area_q(user, "holder__community"))
        .select_related("holder__household", "holder__community", "issuing_area")
        .order_by("-issued_on", "-id")
    )


def filter_cards(records, filters: dict, *, today: datetime.date):
    """Apply the list's filters (already validated by the filter form) to ``records``."""
    if filters.get("area") is not None:
        records = records.filter(holder__community__path__startswith=filters["area"].path)
    if filters.get("scheme"):
        records = records.filter(scheme=filters["scheme"])
    if filters.get("status"):
        records = records.filter(status_q(filters["status"], today))
    if filters.get("issued_from"):
        records = records.filter(issued_on__gte=filters["issued_from"])
    if filters.get("issued_to"):
        records = records.filter(issued_on__lte=filters["issued_to"])
    if filters.get("q"):
        number = _card_number_part(filters["q"])
        if number:
            records = records.filter(number__contains=number)
        else:
            records = records.filter(holder__in=_persons_named(filters["q"]))
    return records


def usable_on(card: ServiceCard, day: datetime.date) -> bool:
    """Whether a merchant may accept ``card`` on ``day``: the till's own rule."""
    try:
        refuse_card(card, day)
    except ValidationError:
        return False
    return True


def with_shown_status(cards, today: datetime.date):
    """Set ``effective`` (active, expired, lost, revoked) and ``shown`` (its label) on each
    card, for the page; no query."""
    for card in cards:
        card.effective = card.effective_status(today)
        card.shown = card.shown_status(today)
    return cards


def card_uses(user, card: ServiceCard):
    """The card's uses the user may see, newest first, with merchant and service (each
    use's ``benefit`` is what the holder saved)."""
    return list(
        CardUse.objects.visible_to(user)
        .filter(card=card)
        .select_related("merchant", "item")
        .order_by("-used_on", "-id")
    )


def _card_reason(reason: str) -> str:
    if reason == CardStatus.LOST:
        return _("reported lost")
    if reason == CardStatus.REVOKED:
        return _("revoked")
    if reason == "withdrawn":
        return _("consent withdrawn")
    return reason_text(reason)


def card_history(card: ServiceCard):
    return history_entries(card.history.select_related("history_user"), reason_of=_card_reason)


# ---------------------------------------------------------------- consents


def consents_for(user):
    return (
        Consent.objects.filter(resident_area_q(user, "person__community"))
        .select_related("person__household", "person__community", "recorded_by")
        .order_by("-given_on", "-id")
    )


def filter_consents(records, filters: dict):
    if filters.get("area") is not None:
        records = records.filter(person__community__path__startswith=filters["area"].path)
    if filters.get("state") == CURRENT:
        records = records.filter(withdrawn_on__isnull=True)
    elif filters.get("state") == WITHDRAWN:
        records = records.filter(withdrawn_on__isnull=False)
    if filters.get("q"):
        records = records.filter(person__in=_persons_named(filters["q"]))
    return records


def person_consents(person: Person) -> list[Consent]:
    return list(
        Consent.objects.filter(person=person).select_related("recorded_by").order_by("-given_on")
    )


def _consent_reason(reason: str) -> str:
    if reason == "withdrawn":
        return _("withdrawn")
    return reason_text(reason)


def consent_history(person: Person):
    """The changes of all the person's consents, newest first, each named by its date."""
    records = Consent.history.filter(person_id=person.pk).select_related("history_user")
    return history_entries(
        records,
        subject_of=lambda r: _("consent of %(date)s") % {"date": r.given_on.isoformat()},
        reason_of=_consent_reason,
    )


def person_cards(user, person: Person) -> list[ServiceCard]:
    return list(
        ServiceCard.objects.visible_to(user)
        .filter(holder=person)
        .select_related("issuing_area")
        .order_by("-issued_on", "-id")
    )


# ---------------------------------------------------------------- persons to issue to


def issuable_persons(user):
    """Current persons of the areas the user manages: those a card may be issued to."""
    return Person.objects.changeable_by(user).current()


def with_card_state(persons):
    """What the issue page says of each person: a current consent, active cards."""
    return persons.select_related("household", "community").annotate(
        has_consent=Exists(
            Consent.objects.filter(person=OuterRef("pk"), withdrawn_on__isnull=True)
        ),
        active_cards=Count("service_cards", filter=Q(service_cards__status="active")),
    )


def household_members(user, household_pk: int) -> list[Person]:
    """The current members of one household the user manages, as the issue page lists them
    (nobody for a household outside the user's areas)."""
    members = issuable_persons(user).filter(household_id=household_pk)
    return list(with_card_state(members).order_by("pk")[:PERSON_CHOICES])


def persons_found(user, text: str) -> list[Person]:
    """Persons the issue page's search box finds by name, pinyin or its initials (never by
    ID number), at most ``PERSON_CHOICES``."""
    if not text:
        return []
    persons = issuable_persons(user).order_by("name", "pk")
    found = search_persons(persons, text, NAME_SEARCH, limit=PERSON_CHOICES)
    return list(with_card_state(found).order_by("name", "pk")[:PERSON_CHOICES])
