"""Forms of the two-way service survey (双向服务意向调查表): the list's filters, the
summary's area and period, and the survey itself with what the household wants and what
it can offer, category by category."""

import datetime
import uuid

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from network.models import Area
from residents.models import Household, Person
from residents.pages import AreaField, ListFilterForm, no_future, style_widgets
from residents.typed_input import typed_text, without_control_characters
from services.models import ServiceCategory, Survey, SurveyAnswer, SurveyDirection
from services.selectors_survey import respondents

EARLIEST_DAY = datetime.date(1990, 1, 1)  # no survey of this scheme is older
DETAIL_CHARS = 200
DIRECTIONS = (SurveyDirection.WANTS, SurveyDirection.OFFERS)


def _any(label):
    return [("", label)] + list(ServiceCategory.choices)


class SurveyFilterForm(ListFilterForm):
    """The survey list's filters (GET); a value that does not fit is dropped."""

    q = forms.CharField(label=_("Household or respondent"), required=False, max_length=50)
    area = AreaField(
        label=_("Area"), queryset=Area.objects.none(), required=False, empty_label=_("All")
    )
    wants = forms.ChoiceField(label=_("Wants"), required=False, choices=_any(_("Any")))
    offers = forms.ChoiceField(label=_("Can offer"), required=False, choices=_any(_("Any")))
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    archived = forms.BooleanField(label=_("Archived only"), required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["area"].queryset = (
            Area.objects.visible_to(user).exclude(level="district").order_by("path")
        )
        style_widgets(self.fields)

    def clean_q(self):
        return typed_text(self.cleaned_data.get("q"), 50)


class SummaryForm(ListFilterForm):
    """The summary's area (any the user may see) and period (GET)."""

    area = AreaField(label=_("Area"), queryset=Area.objects.none(), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["area"].queryset = (
            Area.objects.visible_to(user).filter(is_active=True).order_by("path")
        )
        self.fields["area"].empty_label = None
        style_widgets(self.fields)


class RespondentField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.get_relation_display()}"


def answer_field_names(direction: str, category: str) -> tuple[str, str]:
    return f"{direction}_{category}", f"{direction}_{category}_detail"


class SurveyForm(forms.ModelForm):
    """A survey of one household: who answered, when, and per service category whether the
    household wants it and whether it can offer it, each with an optional detail. A new
    survey carries the hidden key made when the form was shown: sent twice, it is one
    survey."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Survey
        fields = ["respondent", "surveyed_on", "note"]
        widgets = {
            "surveyed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        field_classes = {"respondent": RespondentField}

    def __init__(self, *args, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        self.household = household
        instance = self.instance
        if instance.pk:
            del self.fields["submission_key"]
        respondent = self.fields["respondent"]
        respondent.queryset = respondents(household, including=instance.respondent_id)
        respondent.required = True
        respondent.empty_label = _("Choose the member who answered")
        respondent.help_text = _("A member of the household who answered the survey.")
        self.fields["surveyed_on"].help_text = _("The day the household was asked.")
        given = {}
        if instance.pk:
            given = {(a.direction, a.category): a.detail for a in instance.answers.all()}
        for value, label in ServiceCategory.choices:
            for direction in DIRECTIONS:
                tick, detail = answer_field_names(direction, value)
                self.fields[tick] = forms.BooleanField(
                    label=_("Wants") if direction == SurveyDirection.WANTS else _("Can offer"),
                    required=False,
                    initial=(direction, value) in given,
                )
                self.fields[detail] = forms.CharField(
                    label=label,
                    required=False,
                    max_length=DETAIL_CHARS,
                    initial=given.get((direction, value), ""),
                )
                self.fields[detail].widget.attrs["placeholder"] = (
                    _("What exactly (optional)")
                    if direction == SurveyDirection.WANTS
                    else _("Which skill (optional)")
                )
        style_widgets(self.fields)

    # -------------------------------------------------------------- for the template

    def answer_rows(self):
        """(category label, wants box, wants detail, offers box, offers detail) per
        category, in the order of the choices."""
        rows = []
        for value, label in ServiceCategory.choices:
            wants_tick, wants_detail = answer_field_names(SurveyDirection.WANTS, value)
            offers_tick, offers_detail = answer_field_names(SurveyDirection.OFFERS, value)
            rows.append(
                (
                    label,
                    self[wants_tick],
                    self[wants_detail],
                    self[offers_tick],
                    self[offers_detail],
                )
            )
        return rows

    # -------------------------------------------------------------- checks

    def clean_surveyed_on(self):
        day = self.cleaned_data.get("surveyed_on")
        no_future(day, _("The survey cannot be dated after today."))
        if day and day < EARLIEST_DAY:
            raise forms.ValidationError(_("This is before 1990: check the year."))
        return day

    def clean_note(self):
        return without_control_characters(self.cleaned_data.get("note") or "").strip()

    def clean(self):
        data = super().clean()
        self.answers = []
        for value, _label in ServiceCategory.choices:
            for direction in DIRECTIONS:
                tick, detail_name = answer_field_names(direction, value)
                detail = typed_text(data.get(detail_name), DETAIL_CHARS)
                data[detail_name] = detail
                if detail and not data.get(tick):
                    self.add_error(
                        detail_name,
                        _("Tick the box for this detail, or clear the detail."),
                    )
                elif data.get(tick):
                    self.answers.append((direction, value, detail))
        respondent: Person | None = data.get("respondent")
        if respondent is not None and respondent.household_id != self.household.pk:
            self.add_error("respondent", _("The respondent must be a member of the household."))
        return data

    # -------------------------------------------------------------- writing

    @transaction.atomic
    def save_for(self, user) -> Survey:
        """Save the survey and replace its answers with those ticked, all or nothing. A
        second new survey under the same submission key raises IntegrityError."""
        survey = super().save(commit=False)
        if survey.pk is None:
            survey.household = self.household
            survey.recorded_by = user
            survey.submission_key = self.cleaned_data.get("submission_key") or uuid.uuid4()
        survey.save()
        replace_answers(survey, self.answers)
        return survey


def replace_answers(survey: Survey, answers: list[tuple[str, str, str]]) -> None:
    """Make the survey's answers exactly ``answers`` ((direction, category, detail) each):
    those no longer given are deleted, new ones added, changed details saved, so the
    history shows what really changed. Call inside a transaction."""
    wanted = {(d, c): detail for d, c, detail in answers}
    for answer in list(survey.answers.all()):
        key = (answer.direction, answer.category)
        if key not in wanted:
            answer.delete()
        elif wanted[key] != answer.detail:
            answer.detail = wanted[key]
            answer.save(update_fields=["detail"])
        wanted.pop(key, None)
    for (direction, category), detail in wanted.items():  # one by one: each keeps history
        SurveyAnswer.objects.create(
            survey=survey, direction=direction, category=category, detail=detail
        )
