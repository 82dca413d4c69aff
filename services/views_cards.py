"""Pages of consents and service cards (社区灵通服务卡, 三优服务卡): a resident's consent to be
known to partner merchants, the card list and export, a card and its uses, issuing, reporting
lost and reissuing, revoking, the printable card with its QR code, and the public page that
QR code opens.

Thin views: the rules live in ``services.cards``, reading in ``selectors_cards``. Every write
is a POST that may safely arrive twice: the second finds the card already lost, revoked or
the consent already recorded, and says so instead of writing again.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from network.access import (
    can_change_area,
    get_changeable_or_404,
    get_visible_or_404,
    has_current_post,
    scope_for,
)
from network.forms import add_refusal
from network.scoped import public_view, scoped_view
from residents.archiving import refused
from residents.models import Person
from residents.pages import xlsx_export
from residents.typed_input import MAX_ID, typed_text, whole_number
from services.cards import (
    card_from_token,
    issue_card,
    record_consent,
    reissue_lost_card,
    revoke_card,
    withdraw_consent,
)
from services.forms_cards import (
    EXPIRED,
    CardFilterForm,
    ConsentFilterForm,
    ConsentForm,
    IssueCardForm,
    ReissueCardForm,
    RevokeCardForm,
    WithdrawConsentForm,
)
from services.models import CardScheme, CardStatus, Consent, ServiceCard
from services.qr import qr_svg, verification_url
from services.selectors_cards import (
    card_history,
    card_uses,
    cards_for,
    consent_history,
    consents_for,
    filter_cards,
    filter_consents,
    household_members,
    issuable_persons,
    person_cards,
    person_consents,
    persons_found,
    usable_on,
    with_card_state,
    with_shown_status,
)
from services.uses import merchant_of
from services.views_rows import card_rows, consent_rows, counted_page

VIEW = "services.view_servicecard"
ADD = "services.add_servicecard"
CHANGE = "services.change_servicecard"
VIEW_CONSENT = "services.view_consent"
ADD_CONSENT = "services.add_consent"
CHANGE_CONSENT = "services.change_consent"
EXPORT = "services.export_services"

CARDS_PER_SHEET = 10  # 2 × 5 on an A4 sheet
MAX_SHEET_CARDS = 50  # five sheets at a time; more is a job for several prints
MAX_TOKEN_LENGTH = 200  # a signed card number is about 50 characters


def _manages_somewhere(user) -> bool:
    scope = scope_for(user)
    return scope.everything or bool(scope.changeable_paths)


def _may_change_card(user, card: ServiceCard) -> bool:
    return user.has_perm(CHANGE) and can_change_area(user, card.holder.community)


# ---------------------------------------------------------------- the list and export


@scoped_view(VIEW)
@require_GET
def card_list(request):
    form = CardFilterForm(request.GET or None, user=request.user)
    today = timezone.localdate()
    records = filter_cards(cards_for(request.user), form.filters, today=today)
    page = counted_page(request, records, records.order_by().count())
    page.object_list = with_shown_status(list(page.object_list), today)
    return render(
        request,
        "services/cards/card_list.html",
        {
            "form": form,
            "page": page,
            "rows": card_rows(page.object_list),
            "can_issue": request.user.has_perm(ADD) and _manages_somewhere(request.user),
            "can_export": request.user.has_perm(EXPORT),
            "sheet_size": CARDS_PER_SHEET,
        },
    )


@scoped_view(VIEW, EXPORT)
@require_GET
def card_export(request):
    """The list as an xlsx file, with the list's filters; logged. No ID numbers."""
    form = CardFilterForm(request.GET or None, user=request.user)
    today = timezone.localdate()
    filters = form.filters
    records = filter_cards(
        cards_for(request.user).select_related("replaces", "issued_by"), filters, today=today
    )
    schemes = dict(CardScheme.choices)
    header = [
        _("Card number"),
        _("Card"),
        _("Holder"),
        _("Community"),
        _("Address"),
        _("Issued by"),
        _("Issued on"),
        _("Valid until"),
        _("Status"),
        _("Status changed on"),
        _("Reason"),
        _("Replaces card"),
        _("Issued by (staff)"),
    ]

    def rows():
        for card in records.iterator(chunk_size=2000):
            yield [
                card.display_number,
                str(schemes.get(card.scheme, card.scheme)),
                card.holder.name,
                card.holder.community.name,
                card.holder.household.address,
                card.issuing_area.name,
                card.issued_on,
                card.valid_until,
                card.shown_status(today),
                card.status_changed_on,
                card.status_reason,
                card.replaces.display_number if card.replaces_id else "",
                card.issued_by.display_name if card.issued_by_id else "",
            ]

    area = filters.get("area")
    label = _("Service cards")
    return xlsx_export(
        request,
        header=header,
        rows=rows(),
        identifier="services.cards",
        label=f"{label} · {area.name}" if area else label,
        sheet=label,
        filename="service-cards",
        filters=form.logged_filters(),
        area=area,
    )


# ---------------------------------------------------------------- one card


def _card_records():
    return ServiceCard.objects.select_related(
        "holder__household",
        "holder__community",
        "issuing_area",
        "replaces",
        "replaced_by",
        "issued_by",
    )


def _replacement(card: ServiceCard) -> ServiceCard | None:
    try:
        return card.replaced_by
    except ServiceCard.DoesNotExist:
        return None


@scoped_view(VIEW)
@require_GET
def card_detail(request, pk):
    card = get_visible_or_404(_card_records(), request.user, pk=pk)
    today = timezone.localdate()
    with_shown_status([card], today)
    uses = card_uses(request.user, card)
    counted = [use for use in uses if use.archived_at is None]
    return render(
        request,
        "services/cards/card_detail.html",
        {
            "card": card,
            "replaced_by": _replacement(card),
            "uses": uses,
            "uses_counted": len(counted),
            "benefit_total": sum((use.benefit for use in counted), start=Decimal("0.00")),
            "history": card_history(card),
            "can_change": card.effective in (CardStatus.ACTIVE, EXPIRED)
            and _may_change_card(request.user, card),
            "can_reissue": card.status == CardStatus.ACTIVE
            and request.user.has_perm(ADD)
            and _may_change_card(request.user, card),
            "can_see_consent": request.user.has_perm(VIEW_CONSENT),
        },
    )


# ---------------------------------------------------------------- issue


def _chosen_person(request, raw):
    """The person ``raw`` names, if the user may issue them a card; else None (no hint)."""
    pk = whole_number(raw)
    if pk is None or not 0 < pk <= MAX_ID:
        return None
    return with_card_state(issuable_persons(request.user)).filter(pk=pk).first()


def _issue_page(request, form, *, person, searched="", found=None, status=200):
    held = []
    if person is not None:
        held = [c for c in person_cards(request.user, person) if c.status == CardStatus.ACTIVE]
    return render(
        request,
        "services/cards/card_issue.html",
        {
            "form": form,
            "person": person,
            "held": held,
            "searched": searched,
            "found": found,
            "can_record_consent": request.user.has_perm(ADD_CONSENT),
        },
        status=status,
    )


@scoped_view(VIEW, ADD)
@require_http_methods(["GET", "POST"])
def card_issue(request):
    if not _manages_somewhere(request.user):
        raise PermissionDenied(_("You manage no area in which to issue cards."))
    persons = issuable_persons(request.user)
    if request.method == "GET":
        searched = typed_text(request.GET.get("q"), 50)
        found = persons_found(request.user, searched) if searched else None
        household_pk = whole_number(request.GET.get("household"))
        if found is None and household_pk is not None and 0 < household_pk <= MAX_ID:
            found = household_members(request.user, household_pk)  # from the household page
            searched = found[0].household.address if found else ""
        person = _chosen_person(request, request.GET.get("person"))
        if person is None and found is not None and len(found) == 1:
            person = found[0]  # one person found: take them
        initial = {"person": person.pk} if person else {}
        form = IssueCardForm(initial=initial, persons=persons)
        return _issue_page(request, form, person=person, searched=searched, found=found)

    form = IssueCardForm(request.POST, persons=persons)
    person = _chosen_person(request, request.POST.get("person"))
    if form.is_valid():
        try:
            card = issue_card(
                form.cleaned_data["person"],
                user=request.user,
                scheme=form.cleaned_data["scheme"],
                issued_on=form.cleaned_data["issued_on"],
                valid_until=form.cleaned_data["valid_until"],
            )
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request,
                _("Card %(number)s issued to %(name)s.")
                % {"number": card.display_number, "name": card.holder.name},
            )
            return redirect("services:card-detail", pk=card.pk)
    messages.error(request, _("No card was issued: see the reasons below."))
    return _issue_page(request, form, person=person)


# ---------------------------------------------------------------- lost and reissued, revoked


def _changeable_card(request, pk) -> ServiceCard:
    card = get_changeable_or_404(_card_records(), request.user, pk=pk)
    with_shown_status([card], timezone.localdate())
    return card


def _already(request, card: ServiceCard):
    """A card no longer active: say what became of it and show it (or its replacement)."""
    replacement = _replacement(card)
    if replacement is not None:
        messages.info(
            request,
            _("Card %(number)s was already reported lost; card %(new)s replaced it.")
            % {"number": card.display_number, "new": replacement.display_number},
        )
        return redirect("services:card-detail", pk=replacement.pk)
    messages.info(
        request,
        _("Card %(number)s is already %(status)s; nothing was changed.")
        % {"number": card.display_number, "status": card.get_status_display()},
    )
    return redirect("services:card-detail", pk=card.pk)


def _status_page(request, card, form, *, action: str, title: str, status=200):
    return render(
        request,
        "services/cards/card_status_form.html",
        {"card": card, "form": form, "action": action, "title": title},
        status=status,
    )


@scoped_view(VIEW, ADD, CHANGE)
@require_http_methods(["GET", "POST"])
def card_reissue(request, pk):
    """Mark the card lost and issue its holder a new one that replaces it, in one step."""
    card = _changeable_card(request, pk)
    if card.status != CardStatus.ACTIVE:
        return _already(request, card)
    title = _("Report card %(number)s lost and issue a new one") % {"number": card.display_number}
    if request.method == "GET":
        form = ReissueCardForm(card=card)
        return _status_page(request, card, form, action="reissue", title=title)
    form = ReissueCardForm(request.POST, card=card)
    if form.is_valid():
        try:
            new = reissue_lost_card(
                card,
                on=form.cleaned_data["on"],
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            card.refresh_from_db()
            if card.status != CardStatus.ACTIVE:  # a second desk got there first
                return _already(request, card)
            add_refusal(form, exc)
        else:
            messages.success(
                request,
                _("Card %(number)s is marked lost; card %(new)s was issued in its place.")
                % {"number": card.display_number, "new": new.display_number},
            )
            return redirect("services:card-detail", pk=new.pk)
    messages.error(request, _("Nothing was changed: see the reasons below."))
    return _status_page(request, card, form, action="reissue", title=title)


@scoped_view(VIEW, CHANGE)
@require_http_methods(["GET", "POST"])
def card_revoke(request, pk):
    card = _changeable_card(request, pk)
    if card.status != CardStatus.ACTIVE:
        return _already(request, card)
    title = _("Revoke card %(number)s") % {"number": card.display_number}
    if request.method == "GET":
        form = RevokeCardForm(card=card)
        return _status_page(request, card, form, action="revoke", title=title)
    form = RevokeCardForm(request.POST, card=card)
    if form.is_valid():
        try:
            revoke_card(
                card,
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
        except ValidationError as exc:
            card.refresh_from_db()
            if card.status != CardStatus.ACTIVE:
                return _already(request, card)
            add_refusal(form, exc)
        else:
            messages.success(
                request, _("Card %(number)s was revoked.") % {"number": card.display_number}
            )
            return redirect("services:card-detail", pk=card.pk)
    messages.error(request, _("Nothing was changed: see the reasons below."))
    return _status_page(request, card, form, action="revoke", title=title)


# ---------------------------------------------------------------- printing


def _printable(cards, today):
    """The cards that may be printed (active and in date) with their QR codes drawn, and the
    others, left out."""
    with_shown_status(cards, today)
    printable = [c for c in cards if c.effective == CardStatus.ACTIVE]
    skipped = [c for c in cards if c.effective != CardStatus.ACTIVE]
    return printable, skipped


def _draw_qr(request, card: ServiceCard) -> None:
    """The card's signed link (``verify_url``) and its QR code (``qr``)."""
    card.verify_url = verification_url(request, card)
    card.qr = qr_svg(card.verify_url)


@scoped_view(VIEW)
@require_GET
def card_print(request, pk):
    """One card at its real size (85.6 × 54 mm) for a card printer or to cut out."""
    card = get_visible_or_404(_card_records(), request.user, pk=pk)
    printable, _skipped = _printable([card], timezone.localdate())
    if printable:
        _draw_qr(request, card)
    return render(
        request,
        "services/cards/card_print.html",
        {"card": card, "printable": bool(printable)},
    )


def _chunks(items, size):
    items = iter(items)
    while chunk := list(islice(items, size)):
        yield chunk


def _selected_ids(raw_values) -> list[int]:
    ids = []
    for raw in raw_values:
        pk = whole_number(raw)
        if pk is not None and 0 < pk <= MAX_ID and pk not in ids:
            ids.append(pk)
    return ids


@scoped_view(VIEW)
@require_GET
def card_print_sheet(request):
    """The selected cards on A4 sheets, 2 × 5 each, with crop marks. Cards the user may not
    see are left out without a word; lost, revoked or expired ones with a note."""
    ids = _selected_ids(request.GET.getlist("card"))
    too_many = len(ids) > MAX_SHEET_CARDS
    ids = ids[:MAX_SHEET_CARDS]
    found = {c.pk: c for c in _card_records().visible_to(request.user).filter(pk__in=ids)}
    cards = [found[pk] for pk in ids if pk in found]
    printable, skipped = _printable(cards, timezone.localdate())
    for card in printable:
        _draw_qr(request, card)
    return render(
        request,
        "services/cards/card_sheet.html",
        {
            "sheets": list(_chunks(printable, CARDS_PER_SHEET)),
            "skipped": skipped,
            "too_many": too_many,
            "max_cards": MAX_SHEET_CARDS,
        },
    )


# ---------------------------------------------------------------- the public check


@dataclass(frozen=True)
class PublicCard:
    """What the public check shows of a card: its number, scheme, issuer and dates. Built
    here so that nothing of the holder (not even the record to reach them by) is in the
    page's context."""

    number: str
    display_number: str
    scheme: str
    issuer: str
    valid_until: datetime.date


def _public_response(request, template: str, context: dict, status: int = 200):
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@public_view
@never_cache  # the page differs for a till or staff: no shared cache may keep it
@require_GET
def card_verify(request, token):
    """What the card's QR code opens: is this card valid today? Public, so it shows the card
    and nothing of its holder. A forged, garbled or unknown link gets the same 404. A partner
    merchant's till gets a button to record a use; staff who may see the card, a link to it."""
    card = card_from_token(token) if len(token) <= MAX_TOKEN_LENGTH else None
    if card is None:
        return _public_response(request, "services/cards/verify_unknown.html", {}, status=404)
    today = timezone.localdate()
    till_url = detail_url = None
    user = request.user
    if user.is_authenticated:
        if merchant_of(user) is not None:
            till_url = f"{reverse('services:till-card')}?{urlencode({'number': card.number})}"
        elif (
            user.has_perm(VIEW)
            and has_current_post(user)
            and ServiceCard.objects.visible_to(user).filter(pk=card.pk).exists()
        ):
            detail_url = reverse("services:card-detail", kwargs={"pk": card.pk})
    shown = PublicCard(
        number=card.number,
        display_number=card.display_number,
        scheme=card.get_scheme_display(),
        issuer=card.issuing_area.name,
        valid_until=card.valid_until,
    )
    return _public_response(
        request,
        "services/cards/verify.html",
        {
            "card": shown,
            "effective": card.effective_status(today),
            "valid": usable_on(card, today),
            "shown": card.shown_status(today),
            "today": today,
            "till_url": till_url,
            "detail_url": detail_url,
        },
    )


# ---------------------------------------------------------------- consent


@scoped_view(VIEW_CONSENT)
@require_GET
def consent_list(request):
    form = ConsentFilterForm(request.GET or None, user=request.user)
    records = filter_consents(consents_for(request.user), form.filters)
    page = counted_page(request, records, records.order_by().count())
    return render(
        request,
        "services/cards/consent_list.html",
        {"form": form, "page": page, "rows": consent_rows(page.object_list)},
    )


def _consent_page(request, person, *, consent_form=None, withdraw_form=None, status=200):
    consents = person_consents(person)
    current = next((c for c in consents if c.withdrawn_on is None), None)
    may_change = can_change_area(request.user, person.community)
    can_record = current is None and may_change and request.user.has_perm(ADD_CONSENT)
    can_withdraw = current is not None and may_change and request.user.has_perm(CHANGE_CONSENT)
    cards = person_cards(request.user, person) if request.user.has_perm(VIEW) else []
    today = timezone.localdate()
    with_shown_status(cards, today)
    return render(
        request,
        "services/cards/consent_person.html",
        {
            "person": person,
            "consents": consents,
            "current": current,
            "cards": cards,
            "active_cards": [c for c in cards if c.status == CardStatus.ACTIVE],
            "can_see_cards": request.user.has_perm(VIEW),
            "can_issue": current is not None
            and person.archived_at is None
            and may_change
            and request.user.has_perm(ADD),
            "consent_form": consent_form or (ConsentForm() if can_record else None),
            "withdraw_form": withdraw_form
            or (WithdrawConsentForm(consent=current) if can_withdraw else None),
            "history": consent_history(person),
        },
        status=status,
    )


def _persons():
    return Person.objects.select_related("household", "community")


@scoped_view(VIEW_CONSENT)
@require_http_methods(["GET", "POST"])
def consent_person(request, pk):
    """A person's consents to be known to partner merchants: record one (POST), see them
    all with their history, withdraw the current one."""
    if request.method == "GET":
        person = get_visible_or_404(_persons(), request.user, pk=pk)
        return _consent_page(request, person)
    if not request.user.has_perm(ADD_CONSENT):
        raise PermissionDenied(_("Your role does not allow this."))
    person = get_changeable_or_404(_persons(), request.user, pk=pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            record_consent(
                person,
                given_on=form.cleaned_data["given_on"],
                form_reference=form.cleaned_data["form_reference"],
                user=request.user,
            )
        except ValidationError as exc:
            if Consent.objects.filter(person=person, withdrawn_on__isnull=True).exists():
                messages.info(request, _("This person's consent is already recorded."))
                return redirect("services:consent-person", pk=person.pk)
            add_refusal(form, exc)
        else:
            messages.success(
                request,
                _("Consent of %(name)s recorded: a card may now be issued.")
                % {"name": person.name},
            )
            return redirect("services:consent-person", pk=person.pk)
    messages.error(request, _("Nothing was saved: correct the fields marked below."))
    return _consent_page(request, person, consent_form=form)


@scoped_view(VIEW_CONSENT, CHANGE_CONSENT)
@require_POST
def consent_withdraw(request, pk):
    """Withdraw a consent; the person's active cards are revoked with it."""
    consent = get_changeable_or_404(
        Consent.objects.select_related("person__household", "person__community"),
        request.user,
        pk=pk,
    )
    person = consent.person
    if consent.withdrawn_on is not None:
        messages.info(request, _("This consent was already withdrawn."))
        return redirect("services:consent-person", pk=person.pk)
    form = WithdrawConsentForm(request.POST, consent=consent)
    if form.is_valid():
        try:
            revoked = withdraw_consent(
                consent, on=form.cleaned_data["withdrawn_on"], user=request.user
            )
        except ValidationError as exc:
            refused(request, exc)
            return redirect("services:consent-person", pk=person.pk)
        numbers = "、".join(card.display_number for card in revoked)
        if revoked:
            messages.success(
                request,
                _("Consent withdrawn; cards revoked with it: %(numbers)s.") % {"numbers": numbers},
            )
        else:
            messages.success(request, _("Consent withdrawn."))
        return redirect("services:consent-person", pk=person.pk)
    messages.error(request, _("Nothing was saved: correct the fields marked below."))
    return _consent_page(request, person, withdraw_form=form)
