"""The table rows of the service lists (merchants, agreements, consents, cards, card uses),
built in Python.

Fifty rows of a dozen template variables each, a ``{% url %}`` and a ``get_..._display``
per row, were most of these pages' time (docs/performance.md, "Service pages"), as they were
of the register's (residents/templatetags/register_rows.py): string formatting does the
same work for a fraction of the cost. Every value is escaped with the standard library's
``html.escape`` (what Django's ``escape`` calls); numbers go through ``localize`` as the
template showed them. The markup is the one the templates had, but for whitespace.
"""

import datetime
from html import escape

from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from residents.pages import PER_PAGE
from services.models import CardScheme, ServiceCategory, UseChannel

MUTED = ' class="text-body-secondary"'  # an archived row


def detail_path(name: str) -> str:
    """The path of a detail page without its primary key (reversed once, not once a row):
    ``detail_path("services:merchant-detail") + "7/"`` is merchant 7's page."""
    return reverse(name, args=[0])[: -len("0/")]


def counted_page(request, records, count: int, per_page: int = PER_PAGE):
    """A page of ``records`` by ``?page=`` (as ``residents.pages.page_of``) whose total is
    ``count``, counted by the caller on a cheaper query of the same rows (without the
    joins and annotations a row needs, or with the totals the page shows anyway)."""
    paginator = Paginator(records, per_page)
    paginator.count = count  # a cached_property: the paginator counts no more
    return paginator.get_page(request.GET.get("page"))


def _day(day: datetime.date | None) -> str:
    return f"{day:%Y-%m-%d}" if day else ""


def _labels(choices) -> dict[str, str]:
    """The labels of a TextChoices, translated once for the page."""
    return {value: escape(str(label)) for value, label in choices}


def _archived_badge(text: str) -> str:
    return f' <span class="badge text-bg-light border">{escape(text)}</span>'


# ---------------------------------------------------------------- merchants


def merchant_rows(merchants) -> SafeString:
    """The merchant list's rows: ``merchants`` with their area, the areas they serve
    (prefetched, in path order) and ``agreements_in_force``."""
    path = escape(detail_path("services:merchant-detail"))
    categories = _labels(ServiceCategory.choices)
    archived = _archived_badge(gettext("archived"))
    parts = []
    for m in merchants:
        category = categories.get(m.category, escape(m.category))
        area = escape(m.area.name)
        served = "、".join(escape(a.name) for a in m.serves.all()) or "—"
        phone = f'<a href="tel:{escape(m.phone)}">{escape(m.phone)}</a>' if m.phone else "—"
        parts.append(
            f"<tr{MUTED if m.archived_at else ''}>"
            f'<td><a class="fw-semibold" href="{path}{m.pk}/">{escape(m.name)}</a>'
            f"{archived if m.archived_at else ''}"
            f'<div class="small text-body-secondary">{escape(m.address)}</div>'
            f'<div class="d-md-none small text-body-secondary">{category} · {area}</div></td>'
            f'<td class="d-none d-md-table-cell">{category}</td>'
            f'<td class="d-none d-md-table-cell">{area}</td>'
            f'<td class="d-none d-lg-table-cell small">{served}</td>'
            f'<td class="d-none d-lg-table-cell">'
            f"{phone}</td>"
            f'<td class="text-end">{localize(m.agreements_in_force)}</td>'
            "</tr>\n"
        )
    return mark_safe("".join(parts))  # every value above is escaped


# ---------------------------------------------------------------- agreements

_AGREEMENT_BADGES = {
    "in_force": "text-bg-success",
    "expiring": "text-bg-warning",
    "expired": "text-bg-secondary",
    "terminated": "text-bg-dark",
    "not_yet": "text-bg-info",
}


def agreement_status_badge(key: str, label: str, ending_soon: str) -> str:
    """services/merchants/_agreement_status.html, as a string."""
    badge = _AGREEMENT_BADGES.get(key, "text-bg-light border")
    soon = f" · {ending_soon}" if key == "expiring" else ""
    return f'<span class="badge {badge}" data-status="{escape(key)}">{escape(label)}{soon}</span>'


def agreement_rows(agreements) -> SafeString:
    """The agreement list's rows (services/merchants/_agreement_table.html without the Renew
    column): ``agreements`` with merchant, area, ``item_count``, ``status_key`` and
    ``status_shown`` (``selectors_merchants.with_shown_status``)."""
    path = escape(detail_path("services:agreement-detail"))
    archived = _archived_badge(gettext("archived"))
    renewed = _archived_badge(gettext("renewed"))
    ending_soon = escape(gettext("ending soon"))
    no_number = escape(gettext("(no number)"))
    parts = []
    for a in agreements:
        area = escape(a.area.name)
        status = agreement_status_badge(a.status_key, a.status_shown, ending_soon)
        parts.append(
            f'<tr data-agreement="{a.pk}"'
            f"{MUTED if a.archived_at else ''}>"
            f'<td class="fw-semibold">{escape(a.merchant.name)}'
            f'<div class="small text-body-secondary fw-normal d-md-none">{area}</div></td>'
            f'<td><a href="{path}{a.pk}/">{escape(a.number) if a.number else no_number}</a>'
            f"{archived if a.archived_at else ''}</td>"
            f'<td class="d-none d-md-table-cell">{area}</td>'
            f'<td class="text-nowrap small">{_day(a.valid_from)} – {_day(a.valid_to)}</td>'
            f"<td>{status}{renewed if getattr(a, 'has_newer', False) else ''}</td>"
            f'<td class="text-end d-none d-md-table-cell">{localize(a.item_count)}</td>'
            "</tr>\n"
        )
    return mark_safe("".join(parts))  # every value above is escaped


# ---------------------------------------------------------------- consents and cards


def consent_rows(consents) -> SafeString:
    """The consent list's rows: ``consents`` with person (its community and household) and
    the user who recorded it."""
    path = escape(detail_path("services:consent-person"))
    withdrawn = escape(gettext("withdrawn"))
    current = escape(gettext("current"))
    parts = []
    for c in consents:
        person = c.person
        if c.withdrawn_on:
            state = (
                f'<span class="badge text-bg-secondary">{withdrawn}</span> {_day(c.withdrawn_on)}'
            )
        else:
            state = f'<span class="badge text-bg-success">{current}</span>'
        recorded = escape(c.recorded_by.display_name) if c.recorded_by else "—"
        parts.append(
            "<tr>"
            f'<td><a class="fw-semibold" href="{path}{c.person_id}/">{escape(person.name)}</a>'
            f'<div class="small text-body-secondary">{escape(person.community.name)} · '
            f"{escape(person.household.address)}</div></td>"
            f'<td class="text-nowrap">{_day(c.given_on)}</td>'
            f'<td class="d-none d-md-table-cell">{escape(c.form_reference or "—")}</td>'
            f'<td class="text-nowrap">{state}</td>'
            f'<td class="d-none d-md-table-cell">{recorded}</td>'
            "</tr>\n"
        )
    return mark_safe("".join(parts))  # every value above is escaped


_CARD_BADGES = {
    "active": "text-bg-success",
    "expired": "text-bg-warning",
    "revoked": "text-bg-danger",
}


def card_rows(cards) -> SafeString:
    """The card list's rows: ``cards`` with holder (and their community), ``effective`` and
    ``shown`` (``selectors_cards.with_shown_status``)."""
    path = escape(detail_path("services:card-detail"))
    schemes = _labels(CardScheme.choices)
    print_label = gettext("Print card %(number)s")
    parts = []
    for card in cards:
        number = escape(card.display_number)
        scheme = schemes.get(card.scheme, escape(card.scheme))
        issued, valid = _day(card.issued_on), _day(card.valid_until)
        check = ""
        if card.effective == "active":
            check = (
                f'<input class="form-check-input" type="checkbox" name="card" '
                f'value="{card.pk}" form="tx-print-sheet" '
                f'aria-label="{escape(print_label % {"number": card.display_number})}">'
            )
        badge = _CARD_BADGES.get(card.effective, "text-bg-secondary")
        parts.append(
            "<tr>"
            f"<td>{check}</td>"
            f'<td class="text-nowrap font-monospace"><a href="{path}{card.pk}/">{number}</a></td>'
            f'<td><span class="fw-semibold">{escape(card.holder.name)}</span>'
            f'<div class="small text-body-secondary">{escape(card.holder.community.name)}</div>'
            f'<div class="d-md-none small text-body-secondary">{scheme} · {issued} – {valid}'
            "</div></td>"
            f'<td class="d-none d-md-table-cell">{scheme}</td>'
            f'<td class="d-none d-md-table-cell text-nowrap">{issued}</td>'
            f'<td class="d-none d-md-table-cell text-nowrap">{valid}</td>'
            f'<td><span class="badge {badge}">{escape(card.shown)}</span></td>'
            "</tr>\n"
        )
    return mark_safe("".join(parts))  # every value above is escaped


# ---------------------------------------------------------------- card uses


def use_rows(uses) -> SafeString:
    """The card use list's rows: ``uses`` with card, holder and community, merchant and
    item."""
    path = escape(detail_path("services:use-detail"))
    channels = _labels(UseChannel.choices)
    voided = _archived_badge(gettext("voided"))
    parts = []
    for use in uses:
        holder = use.card.holder
        parts.append(
            f"<tr{MUTED if use.archived_at else ''}>"
            f'<td class="text-nowrap"><a href="{path}{use.pk}/">{_day(use.used_on)}</a>'
            f"{voided if use.archived_at else ''}</td>"
            f'<td><span class="fw-semibold">{escape(holder.name)}</span>'
            f'<div class="small text-body-secondary">{escape(holder.community.name)}</div></td>'
            f'<td class="d-none d-md-table-cell text-nowrap">'
            f"{escape(use.card.display_number)}</td>"
            f"<td>{escape(use.merchant.name)}"
            f'<div class="small text-body-secondary">{escape(use.item.description)} · '
            f"{escape(use.item.benefit_text)}</div></td>"
            f'<td class="text-end d-none d-md-table-cell">{localize(use.value_before)}</td>'
            f'<td class="text-end d-none d-md-table-cell">{localize(use.value_after)}</td>'
            f'<td class="text-end">{localize(use.benefit)}</td>'
            f'<td class="d-none d-md-table-cell">'
            f"{channels.get(use.channel, escape(use.channel))}</td>"
            "</tr>\n"
        )
    return mark_safe("".join(parts))  # every value above is escaped
