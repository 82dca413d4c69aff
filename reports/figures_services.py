"""Figures of the service-card scheme (合作商户与服务卡), wrapping ``services.figures``: each
figure's records are exactly what that module's ``*_records`` return for the period's first
and last day, so the reports count what the services pages count.

Cards and uses belong to the holder's community and add up over the areas. Merchants and
agreements do not (a merchant serving the whole district counts in each of its areas), so
they are worked out for each row area on its own: one query with a conditional count per
area, over the records of the table's top area, which hold those of every area under it.
"""

from django.db.models import Count, Exists, OuterRef
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from network.models import Area
from reports.catalogue import COUNT, CUSTOM, DISTINCT, SUM, Figure, Section, register, top_area
from reports.figures_register import PERSONS, YUAN
from reports.periods import Period
from residents.models import Person
from services import figures as services_figures
from services.models import CardUse, ServiceCategory


def merchants(area: Area, period: Period):
    return services_figures.merchant_records(area, period.start, period.end)


def agreements(category: str | None = None):
    def records(area: Area, period: Period):
        return services_figures.agreement_records(area, period.start, period.end, category=category)

    return records


def issued_cards(area: Area, period: Period):
    return services_figures.issued_card_records(area, period.start, period.end)


def active_cards(area: Area, period: Period):
    return services_figures.active_card_records(area, period.start, period.end)


def uses(area: Area, period: Period):
    """The uses behind ``card_uses``, with what each one gave (``given``: value less paid)."""
    return services_figures.use_records(area, period.start, period.end).annotate(
        given=services_figures.BENEFIT
    )


def holders_served(area: Area, period: Period):
    """The residents whose cards ``uses`` holds: what ``card_holders_served`` counts."""
    # the residents of the area with a use: a correlated EXISTS per resident of the area (an
    # index probe each), never "every person × every use" when the planner misjudges sizes
    used = CardUse.objects.filter(
        card__holder=OuterRef("pk"),
        archived_at__isnull=True,
        used_on__gte=period.start,
        used_on__lte=period.end,
    )
    return Person.objects.filter(community__path__startswith=area.path).filter(Exists(used))


def per_area(records, prefix: str):
    """A ``compute_fn`` counting ``records`` for each area by ``merchant_area_q`` (the rule of
    ``services.figures``), in one query: an area's records are the top area's records whose
    merchant counts for it."""

    def compute(areas: list[Area], period: Period) -> dict[int, int]:
        counts = {
            f"a{i}": Count("pk", filter=services_figures.merchant_area_q(area, prefix))
            for i, area in enumerate(areas)
        }
        found = records(top_area(areas), period).order_by().aggregate(**counts)
        return {area.pk: found[f"a{i}"] for i, area in enumerate(areas)}

    return compute


register(
    Figure(
        key="merchants",
        label=_("Partner merchants"),
        unit=_("merchants"),
        definition=_(
            "Partner merchants managed in the area or serving it (as they are now: a merchant "
            "serving several areas counts in each)."
        ),
        section=Section.PARTNERS,
        measure=CUSTOM,
        compute_fn=per_area(merchants, ""),
        records=merchants,
        area_field="area",
        record_model="services.Merchant",
    ),
    Figure(
        key="agreements_in_force",
        label=_("Service agreements in force"),
        unit=_("agreements"),
        definition=_(
            "Signed agreements of the area's partner merchants in force at the end of the period."
        ),
        section=Section.PARTNERS,
        measure=CUSTOM,
        compute_fn=per_area(agreements(), "merchant__"),
        records=agreements(),
        area_field="area",
        record_model="services.Agreement",
    ),
    *[
        Figure(
            key=f"agreements_in_force_{category.value}",
            label=format_lazy(_("{}: {}"), _("Service agreements in force"), category.label),
            unit=_("agreements"),
            definition=_(
                "Agreements in force at the end of the period offering a service of this kind."
            ),
            section=Section.PARTNERS,
            measure=CUSTOM,
            compute_fn=per_area(agreements(category.value), "merchant__"),
            records=agreements(category.value),
            area_field="area",
            record_model="services.Agreement",
        )
        for category in ServiceCategory
    ],
    Figure(
        key="cards_issued",
        label=_("Service cards issued"),
        unit=_("cards"),
        definition=_(
            "Service cards issued in the period to residents of the area, whatever their "
            "status now (a card replacing a lost one counts)."
        ),
        section=Section.PARTNERS,
        records=issued_cards,
        area_field="holder__community",
        record_model="services.ServiceCard",
    ),
    Figure(
        key="cards_active",
        label=_("Service cards active"),
        unit=_("cards"),
        definition=_("Cards of residents of the area active and valid at the end of the period."),
        section=Section.PARTNERS,
        records=active_cards,
        area_field="holder__community",
        record_model="services.ServiceCard",
    ),
    Figure(
        key="card_uses",
        label=_("Service card uses"),
        unit=_("person-times"),
        definition=_(
            "Uses of the cards of residents of the area in the period (人次), voided uses left out."
        ),
        section=Section.PARTNERS,
        measure=COUNT,
        records=uses,
        area_field="card__holder__community",
        record_model="services.CardUse",
    ),
    Figure(
        key="card_holders_served",
        label=_("Card holders served"),
        unit=PERSONS,
        definition=_("Residents of the area whose cards were used in the period."),
        section=Section.PARTNERS,
        measure=DISTINCT,
        records=uses,
        value_field="card__holder",
        area_field="card__holder__community",
        list_records=holders_served,
        record_model="residents.Person",
    ),
    Figure(
        key="benefit_value",
        label=_("Value of the benefits"),
        unit=YUAN,
        definition=_(
            "What the card uses of the area's residents were worth less what they paid, in "
            "the period."
        ),
        section=Section.PARTNERS,
        measure=SUM,
        records=uses,
        value_field="given",
        area_field="card__holder__community",
        record_model="services.CardUse",
    ),
)
