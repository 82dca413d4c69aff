"""The list of records behind a figure: the live drill-down of a summary table and the frozen
one of a submitted report (``Model.objects.filter(pk__in=ids)``) both render it.

The columns follow the records' model (``LISTINGS``): a person shows what the register shows
the viewer (ethnicity masked per ``residents.selectors.Viewer``, the name masked for a viewer
who may not see persons), a visit its date, kind and household, and so on; a model not listed
here shows its text. Each row links to the record's own page, where the user fixes it. The page
costs a fixed number of queries whatever the number of records: each listing names what it
joins (``select_related``) and what it adds in SQL (``prepare``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import FieldError
from django.db.models import Model, QuerySet, Sum
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports import catalogue
from reports.catalogue import SHARE, SUM, Figure
from reports.narrative import format_value
from residents.names import masked_name
from residents.pages import page_of
from residents.selectors import MASK, Presenter, Viewer

PER_PAGE = 50


def record_model(figure: Figure) -> type[Model]:
    """The model of the records a figure lists (``figure.record_model``, "residents.Person");
    a share lists its numerator's."""
    target = catalogue.figure(figure.drill_key) if figure.measure == SHARE else figure
    label = target.record_model or figure.record_model
    if not label:
        raise LookupError(f"Figure {figure.key!r} names no record model.")
    return apps.get_model(label)


# ---------------------------------------------------------------- values as shown


def shown_value(figure: Figure, value) -> str:
    """A figure's value as the pages show it: the one formatting of ``narrative.format_value``
    (counts whole, money with two decimals, shares with a per cent sign)."""
    return format_value(figure, value)


# ---------------------------------------------------------------- listings by model


@dataclass
class Context:
    """What the rows of one page need to know about the viewer, computed once a page."""

    user: object
    viewer: Viewer
    presenter: Presenter
    today: datetime.date
    names: bool  # may see persons' names

    def name(self, person) -> str:
        if person is None:
            return ""
        return person.name if self.names else masked_name(person.name)


@dataclass(frozen=True)
class Listing:
    """How one model's records are listed: column labels, the cells of a record, what to
    join, and the page of a record (URL name, the permission it needs, the pk to pass)."""

    columns: list
    cells: Callable[[object, Context], list]
    select_related: tuple[str, ...] = ()
    prepare: Callable[[QuerySet], QuerySet] | None = None
    link: tuple[str, str, Callable[[object], int]] | None = None
    anchor: Callable[[object], str] | None = None
    numeric: frozenset[int] = field(default_factory=frozenset)  # right-aligned columns


def _local_day(moment) -> datetime.date | None:
    return timezone.localtime(moment).date() if moment else None


def _yes(flag: bool) -> str:
    return _("yes") if flag else ""


def _person_cells(person, ctx: Context) -> list:
    row = ctx.presenter.row(person)
    return [ctx.name(person), row.sex, row.age, row.ethnicity, row.community, row.address]


def _household_cells(household, ctx: Context) -> list:
    return [
        household.address,
        household.ledger_number,
        household.community.name,
        household.get_registration_kind_display(),
        "、".join(ctx.presenter.hardship_of(household)),
    ]


def _meeting_prepare(meetings):
    from outreach.selectors_meetings import with_attendee_counts

    return with_attendee_counts(meetings)


def _partner(pairing, ctx: Context) -> str:
    if pairing.partner_person_id:
        return ctx.name(pairing.partner_person)
    return str(pairing.partner or "")


L = gettext_lazy

LISTINGS: dict[str, Listing] = {
    "residents.person": Listing(
        columns=[
            L("Full name"),
            L("Sex"),
            L("Age"),
            L("Ethnicity"),
            L("Community"),
            L("Address"),
        ],
        cells=_person_cells,
        select_related=("household", "community", "ethnicity"),
        link=("residents:household-detail", "residents.view_household", lambda p: p.household_id),
        anchor=lambda p: f"person-{p.pk}",
        numeric=frozenset({2}),
    ),
    "residents.household": Listing(
        columns=[
            L("Address"),
            L("Household number"),
            L("Community"),
            L("Registration"),
            L("Hardship"),
        ],
        cells=_household_cells,
        select_related=("community",),
        link=("residents:household-detail", "residents.view_household", lambda h: h.pk),
    ),
    "residents.honour": Listing(
        columns=[L("Year"), L("Honour"), L("Address"), L("Community")],
        cells=lambda h, ctx: [
            h.year,
            h.get_kind_display(),
            h.household.address,
            h.household.community.name,
        ],
        select_related=("household__community",),
        link=("residents:household-detail", "residents.view_household", lambda h: h.household_id),
    ),
    "residents.ethnicity": Listing(
        columns=[L("Code"), L("Ethnic group")],
        cells=lambda e, ctx: [e.code, e.name],
    ),
    "outreach.visit": Listing(
        columns=[L("Date"), L("Kind"), L("Household"), L("Community")],
        cells=lambda v, ctx: [
            v.visited_on,
            v.get_kind_display(),
            v.household.address,
            v.community.name,
        ],
        select_related=("household", "community"),
        link=("outreach:visit-detail", "outreach.view_visit", lambda v: v.pk),
    ),
    "outreach.meeting": Listing(
        columns=[L("Date"), L("Kind"), L("Subject"), L("Held by"), L("Participants")],
        cells=lambda m, ctx: [
            m.held_on,
            m.get_kind_display(),
            m.title,
            m.area.name,
            m.attendee_total,
        ],
        select_related=("area",),
        prepare=_meeting_prepare,
        link=("outreach:meeting-detail", "outreach.view_meeting", lambda m: m.pk),
        numeric=frozenset({4}),
    ),
    "outreach.consultation": Listing(
        columns=[L("Received"), L("Topic"), L("Status"), L("Days to resolve"), L("Community")],
        cells=lambda c, ctx: [
            _local_day(c.received_at),
            c.get_topic_display(),
            c.get_status_display(),
            c.days_to_resolve,
            c.community.name,
        ],
        select_related=("community",),
        link=("outreach:consultation-detail", "outreach.view_consultation", lambda c: c.pk),
        numeric=frozenset({3}),
    ),
    "outreach.pairing": Listing(
        columns=[L("From"), L("Kind"), L("Household"), L("Partner"), L("Community")],
        cells=lambda p, ctx: [
            p.start_date,
            p.get_kind_display(),
            p.household.address,
            _partner(p, ctx),
            p.community.name,
        ],
        select_related=(
            "household",
            "community",
            "partner_user",
            "partner_liaison",
            "partner_person",
        ),
        link=("outreach:pairing-detail", "outreach.view_pairing", lambda p: p.pk),
    ),
    "outreach.assistance": Listing(
        columns=[L("Visit date"), L("Kind"), L("Description"), L("Household"), L("Community")],
        cells=lambda a, ctx: [
            a.visit.visited_on,
            a.get_kind_display(),
            a.description,
            a.visit.household.address,
            a.visit.community.name,
        ],
        select_related=("visit__household", "visit__community"),
        link=("outreach:visit-detail", "outreach.view_visit", lambda a: a.visit_id),
    ),
    "outreach.followup": Listing(
        columns=[L("Due on"), L("Action"), L("Status"), L("Household")],
        cells=lambda f, ctx: [
            f.due_on,
            f.action,
            f.get_status_display(),
            f.visit.household.address,
        ],
        select_related=("visit__household",),
        link=("outreach:visit-detail", "outreach.view_visit", lambda f: f.visit_id),
    ),
    "outreach.liaison": Listing(
        columns=[L("Full name"), L("Community"), L("Committee secretary"), L("Work unit")],
        cells=lambda li, ctx: [
            li.name,
            li.community.name,
            _yes(li.is_committee_secretary),
            li.unit,
        ],
        select_related=("community",),
        link=("outreach:liaison-detail", "outreach.view_liaison", lambda li: li.pk),
    ),
    "network.liaisongroup": Listing(
        columns=[L("Name"), L("Community"), L("Established on")],
        cells=lambda g, ctx: [g.name, g.community.name, g.established_on],
        select_related=("community",),
    ),
    "network.area": Listing(
        columns=[L("Name"), L("Level"), L("Division code"), L("Parent area")],
        cells=lambda a, ctx: [
            a.name,
            a.get_level_display(),
            a.code or "",
            a.parent.name if a.parent_id else "",
        ],
        select_related=("parent",),
        link=("network:area-detail", "network.view_area", lambda a: a.pk),
    ),
    "network.areapopulation": Listing(
        columns=[L("Area"), L("Year"), L("Registered population"), L("Floating population")],
        cells=lambda p, ctx: [p.area.name, p.year, p.registered, p.floating],
        select_related=("area",),
        link=("network:area-detail", "network.view_area", lambda p: p.area_id),
        numeric=frozenset({2, 3}),
    ),
    "reports.budget": Listing(
        columns=[L("Area"), L("Year"), L("Budget (yuan)")],
        cells=lambda b, ctx: [b.area.name, b.year, b.amount],
        select_related=("area",),
        numeric=frozenset({2}),
    ),
    "services.merchant": Listing(
        columns=[L("Name"), L("Category"), L("Managing area"), L("Address")],
        cells=lambda m, ctx: [m.name, m.get_category_display(), m.area.name, m.address],
        select_related=("area",),
        link=("services:merchant-detail", "services.view_merchant", lambda m: m.pk),
    ),
    "services.agreement": Listing(
        columns=[
            L("Merchant"),
            L("Agreement number"),
            L("Signing area"),
            L("Valid from"),
            L("Valid to"),
            L("Status"),
        ],
        cells=lambda a, ctx: [
            a.merchant.name,
            a.number,
            a.area.name,
            a.valid_from,
            a.valid_to,
            a.shown_status(ctx.today),
        ],
        select_related=("merchant", "area"),
        link=("services:agreement-detail", "services.view_agreement", lambda a: a.pk),
    ),
    "services.servicecard": Listing(
        columns=[
            L("Card number"),
            L("Card"),
            L("Holder"),
            L("Community"),
            L("Issued on"),
            L("Status"),
        ],
        cells=lambda c, ctx: [
            c.display_number,
            c.get_scheme_display(),
            ctx.name(c.holder),
            c.holder.community.name,
            c.issued_on,
            c.shown_status(ctx.today),
        ],
        select_related=("holder__community",),
        link=("services:card-detail", "services.view_servicecard", lambda c: c.pk),
    ),
    "services.carduse": Listing(
        columns=[
            L("Date"),
            L("Merchant"),
            L("Service"),
            L("Holder"),
            L("Value (yuan)"),
            L("Paid (yuan)"),
        ],
        cells=lambda u, ctx: [
            u.used_on,
            u.merchant.name,
            u.item.description,
            ctx.name(u.card.holder),
            u.value_before,
            u.value_after,
        ],
        select_related=("merchant", "item", "card__holder"),
        link=("services:use-detail", "services.view_carduse", lambda u: u.pk),
        numeric=frozenset({4, 5}),
    ),
}

GENERIC = Listing(columns=[L("Record")], cells=lambda obj, ctx: [str(obj)])


def listing_for(model) -> Listing:
    return LISTINGS.get(model._meta.label_lower, GENERIC)


def _link(listing: Listing, obj, user) -> str:
    if listing.link is None:
        absolute = getattr(obj, "get_absolute_url", None)
        return absolute() if callable(absolute) else ""
    name, permission, pk_of = listing.link
    if not user.has_perm(permission):
        return ""
    try:
        url = reverse(name, args=[pk_of(obj)])
    except NoReverseMatch:
        return ""
    return f"{url}#{listing.anchor(obj)}" if listing.anchor else url


# ---------------------------------------------------------------- the page


@dataclass
class Row:
    cells: list
    url: str = ""


def listed(queryset: QuerySet, user) -> QuerySet:
    """The records as the page lists them: only those the user may see (a reference table
    such as the ethnic groups has no scope), joined for the columns, in a stable order."""
    if hasattr(queryset, "visible_to"):
        queryset = queryset.visible_to(user)
    listing = listing_for(queryset.model)
    if listing.select_related:
        queryset = queryset.select_related(*listing.select_related)
    if listing.prepare:
        queryset = listing.prepare(queryset)
    if not queryset.ordered:
        queryset = queryset.order_by("pk")
    return queryset


def _values_of(queryset: QuerySet, value_field: str, pks) -> dict:
    try:
        return dict(queryset.filter(pk__in=pks).order_by().values_list("pk", value_field))
    except FieldError:  # a queryset without the figure's annotation (a frozen list)
        return {}


def _total_of(queryset: QuerySet, value_field: str):
    try:
        return queryset.order_by().aggregate(total=Sum(value_field))["total"] or Decimal("0.00")
    except FieldError:
        return None


def records_page(
    request,
    figure: Figure,
    queryset: QuerySet,
    *,
    heading: str,
    subtitle: str = "",
    back_url: str = "",
    value=None,
):
    """Render the list of ``queryset``'s records behind ``figure``: how many there are, the
    figure's ``value`` when given, and for a sum the total of its value column."""
    user = request.user
    records = listed(queryset, user)
    listing = listing_for(records.model)
    target = catalogue.figure(figure.drill_key) if figure.measure == SHARE else figure
    summed = target.measure == SUM and bool(target.value_field)
    page = page_of(request, records, PER_PAGE)
    objects = list(page.object_list)
    viewer = Viewer.of(user)
    today = timezone.localdate()
    ctx = Context(
        user=user,
        viewer=viewer,
        presenter=Presenter(viewer, today),
        today=today,
        names=user.has_perm("residents.view_person"),
    )
    values = _values_of(records, target.value_field, [o.pk for o in objects]) if summed else {}
    rows = []
    for obj in objects:
        cells = listing.cells(obj, ctx)
        if summed:
            amount = values.get(obj.pk)
            cells = [*cells, f"{Decimal(amount):.2f}" if amount is not None else MASK]
        rows.append(Row(cells=cells, url=_link(listing, obj, user)))
    columns = [str(c) for c in listing.columns]
    numeric = set(listing.numeric)
    if summed:
        numeric.add(len(columns))
        columns.append(f"{target.label}（{target.unit}）" if target.unit else str(target.label))
    total = _total_of(records, target.value_field) if summed else None
    return render(
        request,
        "reports/records.html",
        {
            "figure": figure,
            "target": target,
            "heading": heading,
            "subtitle": subtitle,
            "back_url": back_url,
            "value": None if value is None else shown_value(figure, value),
            "has_value": value is not None,
            "count": page.paginator.count,
            "total": None if total is None else f"{Decimal(total):.2f}",
            "columns": [(label, n in numeric) for n, label in enumerate(columns)],
            "rows": rows,
            "numeric": numeric,
            "page": page,
            "lists_other": target.key != figure.key,
        },
    )
