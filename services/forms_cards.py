"""Forms of the consent and service-card pages: the lists' filters, recording and
withdrawing a consent, issuing a card, reporting it lost (and reissuing) and revoking it."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.models import Area
from residents.models import Person
from residents.pages import AreaField, ListFilterForm, no_future, style_widgets
from residents.typed_input import typed_text
from services.cards import default_valid_until
from services.forms_merchants import QuickSelect, filter_areas, read_choices
from services.models import CardScheme, CardStatus

# No card or consent of this scheme predates it: a year before it is a typing mistake.
EARLIEST_DAY = datetime.date(2000, 1, 1)
EXPIRED = "expired"
CURRENT, WITHDRAWN = "current", "withdrawn"


def _blank(label):
    return [("", label)]


def effective_status_choices():
    """The statuses a user sees: an active card past its date shows as expired."""
    return [
        (CardStatus.ACTIVE, CardStatus.ACTIVE.label),
        (EXPIRED, _("expired")),
        (CardStatus.LOST, CardStatus.LOST.label),
        (CardStatus.REVOKED, CardStatus.REVOKED.label),
    ]


def _not_too_early(day):
    if day and day < EARLIEST_DAY:
        raise forms.ValidationError(_("This is before 2000: check the year."))


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _AreaFilterForm(ListFilterForm):
    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        read_choices(self.fields["area"], filter_areas(user))
        style_widgets(self.fields)

    def clean_q(self):
        return typed_text(self.cleaned_data.get("q"), 50)


class CardFilterForm(_AreaFilterForm):
    """The card list's filters (GET); a value that does not fit is dropped."""

    q = forms.CharField(
        label=_("Card number or holder"),
        required=False,
        max_length=50,
        help_text=_(
            "Part of the number, or the holder's name, its pinyin or initials (mxd), or address."
        ),
    )
    area = AreaField(
        label=_("Community or area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("All"),
        widget=QuickSelect,
    )
    scheme = forms.ChoiceField(
        label=_("Card"),
        required=False,
        choices=_blank(_("All")) + CardScheme.choices,
        widget=QuickSelect,
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=(), widget=QuickSelect)
    issued_from = forms.DateField(label=_("Issued from"), required=False, widget=_date_input())
    issued_to = forms.DateField(label=_("Issued to"), required=False, widget=_date_input())

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, user=user, **kwargs)
        self.fields["status"].choices = _blank(_("All")) + effective_status_choices()


class ConsentFilterForm(_AreaFilterForm):
    q = forms.CharField(label=_("Name"), required=False, max_length=50)
    area = AreaField(
        label=_("Community or area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("All"),
        widget=QuickSelect,
    )
    state = forms.ChoiceField(
        label=_("Consent"),
        required=False,
        choices=[("", _("All")), (CURRENT, _("current")), (WITHDRAWN, _("withdrawn"))],
        widget=QuickSelect,
    )


# ---------------------------------------------------------------- consent


class ConsentForm(forms.Form):
    given_on = forms.DateField(label=_("Given on"), widget=_date_input())
    form_reference = forms.CharField(
        label=_("Number of the signed paper form"), required=False, max_length=50
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["given_on"].initial = timezone.localdate()
        style_widgets(self.fields)

    def clean_given_on(self):
        day = self.cleaned_data["given_on"]
        no_future(day)
        _not_too_early(day)
        return day

    def clean_form_reference(self):
        return typed_text(self.cleaned_data.get("form_reference"), 50)


class WithdrawConsentForm(forms.Form):
    withdrawn_on = forms.DateField(label=_("Withdrawn on"), widget=_date_input())

    def __init__(self, *args, consent, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent = consent
        self.fields["withdrawn_on"].initial = timezone.localdate()
        style_widgets(self.fields)

    def clean_withdrawn_on(self):
        day = self.cleaned_data["withdrawn_on"]
        no_future(day)
        if day < self.consent.given_on:
            raise forms.ValidationError(_("Consent cannot be withdrawn before it was given."))
        return day


# ---------------------------------------------------------------- cards


class IssueCardForm(forms.Form):
    """Issue a card to a person the user may change. The person comes from the search on
    the same page (or ``?person=``) as a hidden field, checked against what the user may
    change, so a foreign id is a form error, never a card."""

    person = forms.ModelChoiceField(
        queryset=Person.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Find and choose the resident first."),
            "invalid_choice": _("Find and choose the resident first."),
        },
    )
    scheme = forms.ChoiceField(label=_("Card"), choices=CardScheme.choices)
    issued_on = forms.DateField(label=_("Issued on"), widget=_date_input())
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=_date_input(),
    )

    def __init__(self, *args, persons, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["person"].queryset = persons
        self.fields["issued_on"].initial = today
        self.fields["valid_until"].help_text = _(
            "Left empty: until %(date)s for a card issued today (the scheme's term)."
        ) % {"date": default_valid_until(today).isoformat()}
        style_widgets(self.fields)

    def clean_issued_on(self):
        day = self.cleaned_data["issued_on"]
        no_future(day, _("A card cannot be issued on a day that has not come yet."))
        _not_too_early(day)
        return day

    def clean(self):
        data = super().clean()
        issued_on, valid_until = data.get("issued_on"), data.get("valid_until")
        if issued_on and not valid_until:
            data["valid_until"] = default_valid_until(issued_on)
        elif issued_on and valid_until < issued_on:
            self.add_error("valid_until", _("A card must be valid after the day it is issued."))
        return data


class _CardStatusForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=_date_input())
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, card, **kwargs):
        super().__init__(*args, **kwargs)
        self.card = card
        self.fields["on"].initial = timezone.localdate()
        style_widgets(self.fields)

    def clean_on(self):
        day = self.cleaned_data["on"]
        no_future(day)
        if day < self.card.issued_on:
            raise forms.ValidationError(_("This is before the card was issued."))
        return day

    def clean_reason(self):
        return typed_text(self.cleaned_data.get("reason"), 200)


class ReissueCardForm(_CardStatusForm):
    """Mark a card lost and issue its holder a new one, in one step."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].label = _("Reported lost on")
        self.fields["reason"].label = _("Note")
        self.fields["reason"].help_text = _("Where or how it was lost, if known.")


class RevokeCardForm(_CardStatusForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].label = _("Revoked on")
        self.fields["reason"].required = True
        self.fields["reason"].error_messages["required"] = _("Say why the card is revoked.")

    def clean_reason(self):
        reason = super().clean_reason()
        if not reason:
            raise forms.ValidationError(_("Say why the card is revoked."))
        return reason
