"""Forms of the pairing pages: the list's filters, the pairing itself, ending it and
handing it over."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.access import users_visible_to
from network.models import User
from outreach.common import OutreachFilterForm
from outreach.forms_visits import QuickFilters
from outreach.models import Liaison, Pairing, PairingKind
from outreach.selectors_pairings import (
    PARTNER_FIELDS,
    check_pairing,
    official_choices,
    successor_liaisons,
    successor_users,
)
from residents.models import Person, PersonStatus
from residents.pages import no_future
from residents.typed_input import typed_text

DATE_WIDGET = {"type": "date"}


def _date_input():
    return forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")


class OfficialField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class LiaisonField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.community.name}"


class ResidentField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.community.name}"


class PairingFilterForm(QuickFilters, OutreachFilterForm):
    """Area, start-date range and archived from the shared form (pairings belong to no
    liaison group), then kind, the official, current or ended, and behind schedule."""

    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All"))] + PairingKind.choices
    )
    partner = OfficialField(
        label=_("Official"), queryset=User.objects.none(), required=False, empty_label=_("Anyone")
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("current", _("Current")), ("ended", _("Ended"))],
    )
    behind = forms.BooleanField(label=_("Behind schedule only"), required=False)

    field_order = [
        "area",
        "kind",
        "partner",
        "status",
        "behind",
        "date_from",
        "date_to",
        "archived",
    ]

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, user=user, **kwargs)
        del self.fields["group"]
        self.fields["partner"].queryset = users_visible_to(user).order_by("real_name", "username")
        self.fields["date_from"].label = _("Started from")
        self.fields["date_to"].label = _("Started by")
        self.order_fields(self.field_order)


class HouseholdSearchForm(forms.Form):
    q = forms.CharField(label=_("Find the household"), required=False, max_length=100)

    def clean_q(self):
        return typed_text(self.cleaned_data.get("q"), 100)


class PairingForm(forms.ModelForm):
    """A pairing of one household (fixed by the page) with exactly one partner. The person
    and volunteer boxes offer the household's members and the volunteers; what is posted
    is checked against all the persons the user may see, so a person of another household
    or a resident who is no volunteer gets a clear message, and a foreign id a form error."""

    visits_per_year = forms.IntegerField(
        label=Pairing._meta.get_field("visits_per_year").verbose_name,
        min_value=0,
        max_value=365,
        initial=4,
        help_text=_("How often the pair should meet; visits so far are counted against it."),
    )

    class Meta:
        model = Pairing
        fields = [
            "person",
            "kind",
            "partner_user",
            "partner_liaison",
            "partner_person",
            "start_date",
            "visits_per_year",
            "note",
        ]
        field_classes = {
            "person": ResidentField,
            "partner_user": OfficialField,
            "partner_liaison": LiaisonField,
            "partner_person": ResidentField,
        }
        widgets = {
            "start_date": _date_input(),
            "note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, household, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.household = household
        self.instance.household = household
        self.instance.community_id = household.community_id
        instance = self.instance

        persons = Person.objects.visible_to(user).select_related("community")
        person = self.fields["person"]
        person.queryset = persons.filter(
            Q(archived_at__isnull=True) | Q(pk=instance.person_id or 0)
        )
        person.required = False
        person.empty_label = _("The whole household")
        members = household.members.filter(
            archived_at__isnull=True, status=PersonStatus.ACTIVE
        ).select_related("community")
        person.widget.choices = [("", person.empty_label)] + [
            (m.pk, m.name) for m in members.order_by("pk")
        ]
        person.help_text = _("A key person, when the pairing is with one member.")

        officials = official_choices(user)
        wanted = Q(pk__in=officials.values("pk"))
        if instance.partner_user_id:
            wanted |= Q(pk=instance.partner_user_id)
        self.fields["partner_user"].queryset = User.objects.filter(wanted).order_by(
            "real_name", "username"
        )

        liaisons = Liaison.objects.visible_to(user)
        wanted = Q(archived_at__isnull=True)
        if instance.partner_liaison_id:
            wanted |= Q(pk=instance.partner_liaison_id)
        self.fields["partner_liaison"].queryset = (
            liaisons.filter(wanted).select_related("community").order_by("community__path", "name")
        )

        volunteer = self.fields["partner_person"]
        volunteer.queryset = person.queryset
        volunteers = (
            persons.filter(archived_at__isnull=True, is_volunteer=True, status=PersonStatus.ACTIVE)
            .exclude(household=household)
            .order_by("community__path", "name", "pk")
        )
        if instance.partner_person_id:
            volunteers = persons.filter(
                Q(pk__in=volunteers.values("pk")) | Q(pk=instance.partner_person_id)
            ).order_by("community__path", "name", "pk")
        volunteer.widget.choices = [("", "---------")] + [
            (v.pk, volunteer.label_from_instance(v)) for v in volunteers
        ]

        for name in PARTNER_FIELDS:
            self.fields[name].required = False
        self.fields["partner_user"].help_text = _("An official with a current post.")
        self.fields["partner_liaison"].help_text = _("A liaison, with or without an account.")
        self.fields["partner_person"].help_text = _("A resident registered as a volunteer.")
        if not instance.pk:
            self.initial.setdefault("start_date", timezone.localdate())

    def clean_start_date(self):
        day = self.cleaned_data.get("start_date")
        no_future(day, _("A pairing is recorded when it begins, not before."))
        return day

    def clean_note(self):
        return typed_text(self.cleaned_data.get("note"), 5000)

    def clean(self):
        data = super().clean()
        trial = Pairing(
            pk=self.instance.pk,
            household=self.household,
            community_id=self.household.community_id,
            person=data.get("person"),
            partner_user=data.get("partner_user"),
            partner_liaison=data.get("partner_liaison"),
            partner_person=data.get("partner_person"),
            start_date=data.get("start_date") or timezone.localdate(),
        )
        try:
            check_pairing(trial)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                target = None if key == "__all__" or key not in self.fields else key
                for message in messages:
                    if target is None or target not in self.errors:
                        self.add_error(target, message)
        return data

    def _get_validation_exclusions(self):
        # ``clean`` checks the one-partner rule with a message a user understands; the
        # database constraint behind it would only repeat it in its own words.
        return super()._get_validation_exclusions() | set(PARTNER_FIELDS)


class PairingEndForm(forms.Form):
    end_date = forms.DateField(label=_("Last day of the pairing"), widget=_date_input())

    def __init__(self, *args, pairing, **kwargs):
        super().__init__(*args, **kwargs)
        self.pairing = pairing
        self.fields["end_date"].initial = timezone.localdate()

    def clean_end_date(self):
        day = self.cleaned_data["end_date"]
        no_future(day, _("Record the end of a pairing when it has ended."))
        if day < self.pairing.start_date:
            raise forms.ValidationError(
                _("A pairing cannot end before it began (%(date)s).")
                % {"date": self.pairing.start_date.isoformat()}
            )
        return day


class HandoverForm(forms.Form):
    successor_user = OfficialField(
        label=_("Successor: an official"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Officials with a current post covering the household's community."),
    )
    successor_liaison = LiaisonField(
        label=_("or a liaison"), queryset=Liaison.objects.none(), required=False
    )
    on = forms.DateField(
        label=_("Handed over on"),
        widget=_date_input(),
        help_text=_("The successor's first day; the pairing ends the day before."),
    )

    def __init__(self, *args, user, pairing, **kwargs):
        super().__init__(*args, **kwargs)
        self.pairing = pairing
        self.fields["successor_user"].queryset = successor_users(user, pairing)
        self.fields["successor_liaison"].queryset = successor_liaisons(user, pairing)
        self.fields["on"].initial = timezone.localdate()

    def clean_on(self):
        day = self.cleaned_data["on"]
        no_future(day, _("A handover is recorded when it happens, not before."))
        if day <= self.pairing.start_date:
            raise forms.ValidationError(
                _("The handover must come after the pairing began (%(date)s).")
                % {"date": self.pairing.start_date.isoformat()}
            )
        return day

    def clean(self):
        data = super().clean()
        chosen = [data.get("successor_user"), data.get("successor_liaison")]
        if "successor_user" in self.errors or "successor_liaison" in self.errors:
            return data
        if sum(1 for c in chosen if c is not None) != 1:
            raise forms.ValidationError(_("Choose one successor: an official or a liaison."))
        return data
