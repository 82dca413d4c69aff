"""Forms of the card-use pages: the desk's record form and list filters, the void reason,
the till's value, the till logins of a merchant, and the settlement period."""

import datetime

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.models import Area, User
from residents.pages import AreaField, ListFilterForm, no_future, style_widgets
from residents.typed_input import YuanField, typed_text, whole_number
from services.forms_merchants import (
    QuickSelect,
    filter_areas,
    filter_merchant_choices,
    read_choices,
)
from services.models import AgreementItem, Merchant, ServiceCard, ServiceCategory, UseChannel
from services.selectors_uses import desk_merchants, holds_a_post, service_choices
from services.settlement import (
    MAX_PERIOD_DAYS,
    Period,
    current_quarter,
    month_period,
    quarter_period,
    year_period,
)
from services.uses import card_by_number

DATE_WIDGET = {"type": "date"}
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _blank(label):
    return [("", label)]


# ---------------------------------------------------------------- the list


class UseFilterForm(ListFilterForm):
    """The use list's filters (GET): a value that does not fit is dropped, never an error."""

    area = AreaField(
        label=_("Holder's area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("All"),
        widget=QuickSelect,
    )
    merchant = forms.ModelChoiceField(
        label=_("Merchant"),
        queryset=Merchant.objects.none(),
        required=False,
        empty_label=_("All"),
        widget=QuickSelect,
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=_blank(_("All")) + ServiceCategory.choices,
        widget=QuickSelect,
    )
    channel = forms.ChoiceField(
        label=_("Recorded"),
        required=False,
        choices=_blank(_("All")) + UseChannel.choices,
        widget=QuickSelect,
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs=DATE_WIDGET)
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs=DATE_WIDGET)
    )
    archived = forms.BooleanField(label=_("Voided only"), required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        read_choices(self.fields["area"], filter_areas(user))
        read_choices(self.fields["merchant"], filter_merchant_choices(user))
        style_widgets(self.fields)


# ---------------------------------------------------------------- recording at the desk


class UseForm(forms.Form):
    """A use as the desk records it. The service box offers the chosen merchant's services
    on the chosen day; any item of a merchant the user may see is accepted here and
    ``record_use`` then refuses what does not fit, with its reason."""

    card_number = forms.CharField(
        label=_("Card number"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("As printed, e.g. 001-000001-6; spaces and dashes do not matter."),
    )
    merchant = forms.ModelChoiceField(label=_("Merchant"), queryset=Merchant.objects.none())
    used_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs=DATE_WIDGET))
    item = forms.ModelChoiceField(label=_("Service"), queryset=AgreementItem.objects.none())
    value_before = YuanField(
        label=_("Value (yuan)"),
        required=False,
        help_text=_("What the service costs without a card. Left empty: its usual price."),
    )
    value_after = YuanField(
        label=_("Paid (yuan)"),
        required=False,
        help_text=_("Left empty: worked out from the agreed benefit."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.card = None
        merchants = desk_merchants(user)
        self.fields["merchant"].queryset = merchants
        self.fields["item"].queryset = AgreementItem.objects.filter(
            agreement__merchant__in=merchants
        ).select_related("agreement")
        self.fields["used_on"].widget.format = "%Y-%m-%d"
        self.merchant_choices = list(merchants)
        self.fields["merchant"].widget.choices = [("", "---------")] + [
            (m.pk, m.name) for m in self.merchant_choices
        ]
        self.chosen_merchant = self._chosen_merchant()
        self.chosen_day = self._chosen_day()
        self.fields["item"].widget.choices = [("", "---------")] + service_choices(
            self.chosen_merchant, self.chosen_day
        )
        style_widgets(self.fields)

    def _raw(self, name):
        return self.data.get(name) if self.is_bound else self.initial.get(name)

    def _chosen_merchant(self) -> Merchant | None:
        pk = whole_number(self._raw("merchant"))
        return next((m for m in self.merchant_choices if m.pk == pk), None)

    def _chosen_day(self) -> datetime.date | None:
        raw = self._raw("used_on")
        if isinstance(raw, datetime.date):
            return raw
        try:
            return self.fields["used_on"].to_python(typed_text(raw, 20))
        except ValidationError:
            return None

    def reload_services_from(self, url: str) -> None:
        """Changing the merchant or the date reloads the service box (htmx) from ``url``."""
        for name in ("merchant", "used_on"):
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": url,
                    "hx-trigger": "change",
                    "hx-select": "#use-service",
                    "hx-target": "#use-service",
                    "hx-swap": "outerHTML",
                    "hx-include": "[name=merchant],[name=used_on]",
                }
            )

    def clean_card_number(self):
        card = card_by_number(self.cleaned_data["card_number"])
        # Staff record only for cards they may change; others are "no such card" (no hint).
        if not ServiceCard.objects.changeable_by(self.user).filter(pk=card.pk).exists():
            raise ValidationError(_("No card has this number."))
        self.card = card
        return card.number

    def clean_used_on(self):
        day = self.cleaned_data["used_on"]
        no_future(day)
        return day

    def clean_note(self):
        return typed_text(self.cleaned_data.get("note"), 200)

    def clean(self):
        data = super().clean()
        item = data.get("item")
        if item is not None and data.get("value_before") is None:
            if item.usual_price is None:
                self.add_error(
                    "value_before", _("This service has no usual price: type its value in yuan.")
                )
            else:
                data["value_before"] = item.usual_price
        return data


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this use voided?"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_reason(self):
        reason = typed_text(self.cleaned_data.get("reason"), 200)
        if not reason:
            raise ValidationError(_("Say why the use is voided."))
        return reason


# ---------------------------------------------------------------- the till


class TillValueForm(forms.Form):
    """The till's confirm step: the value of the service (its usual price unless typed)."""

    value_before = YuanField(
        label=_("Value (yuan)"),
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "class": "form-control-lg"}
        ),
    )

    def __init__(self, *args, item: AgreementItem, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        if item.usual_price is None:
            self.fields["value_before"].required = True
        style_widgets(self.fields)
        self.fields["value_before"].widget.attrs["class"] = "form-control form-control-lg"

    def clean_value_before(self):
        value = self.cleaned_data.get("value_before")
        return self.item.usual_price if value is None else value


class TillLoginForm(forms.Form):
    """A new till login of a merchant: an account with no post, bound to the merchant."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Letters, digits and @ . + - _ only."),
    )
    real_name = forms.CharField(
        label=_("Who uses it"),
        max_length=50,
        help_text=_("The shop's cashier or owner, by name."),
    )
    password1 = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Initial password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)

    def clean_username(self):
        username = typed_text(self.cleaned_data.get("username"), 150)
        existing = User.objects.filter(username__iexact=username).first()
        if existing is not None:
            if holds_a_post(existing):
                raise ValidationError(
                    _("This account holds a post: it cannot be made a till login.")
                )
            raise ValidationError(_("This username is taken."))
        return username

    def clean_real_name(self):
        name = typed_text(self.cleaned_data.get("real_name"), 50)
        if not name:
            raise ValidationError(_("Enter the person's real name."))
        return name

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            candidate = User(username=data.get("username", ""), real_name=data.get("real_name", ""))
            try:
                validate_password(first, candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


# ---------------------------------------------------------------- the settlement period


class PeriodForm(ListFilterForm):
    """The settlement's period (GET): from and to, or a year with a quarter or a month;
    nothing chosen is the current quarter. A value that does not fit is dropped."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs=DATE_WIDGET)
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs=DATE_WIDGET)
    )
    year = forms.IntegerField(
        label=_("Year"),
        required=False,
        min_value=EARLIEST_YEAR,
        max_value=LATEST_YEAR,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=_blank(_("Whole year")) + [(q, f"Q{q}") for q in range(1, 5)],
    )
    month = forms.TypedChoiceField(
        label=_("Month"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=_blank("—") + [(m, str(m)) for m in range(1, 13)],
    )

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        style_widgets(self.fields)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The period must end after it starts."))
        elif start and end and (end - start).days > MAX_PERIOD_DAYS:
            self.add_error("date_to", _("A settlement covers at most ten years."))
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
                self.add_error(name, _("Choose a date between 2000 and 2100."))
        return data

    def period(self, today: datetime.date | None = None) -> Period:
        today = today or timezone.localdate()
        chosen = self.filters
        year = chosen.get("year")
        if year:
            if chosen.get("month"):
                return month_period(year, chosen["month"])
            if chosen.get("quarter"):
                return quarter_period(year, chosen["quarter"])
            return year_period(year)
        start, end = chosen.get("date_from"), chosen.get("date_to")
        if start and end:
            return Period(start, end)
        if start:
            end = max(start, today)
            return Period(start, min(end, start + datetime.timedelta(days=MAX_PERIOD_DAYS)))
        if end:
            return Period(end.replace(month=1, day=1), end)
        return current_quarter(today)
