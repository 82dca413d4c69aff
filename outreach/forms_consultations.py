"""Forms of the consultation pages: the list's filters and the record itself."""

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.access import can_see_area, users_visible_to
from network.models import Area, AreaLevel, User
from outreach.common import OutreachFilterForm
from outreach.forms_visits import QuickFilters
from outreach.models import Channel, Consultation, ConsultationStatus, Topic
from outreach.selectors_consultations import EARLIEST_DAY, OVERDUE_DAYS, person_label
from residents.models import Person
from residents.pages import AreaField, no_future
from residents.typed_input import typed_text

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _blank(label):
    return [("", label)]


def consultation_areas(user):
    """Where a user may record a consultation: the active sub-districts and communities they
    manage (a street office's reception window, or a community's)."""
    return (
        Area.objects.changeable_by(user)
        .filter(level__in=[AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY], is_active=True)
        .order_by("path")
    )


class HandlerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class ConsultationFilterForm(QuickFilters, OutreachFilterForm):
    """Area, dates and archived from the shared form (consultations belong to no liaison
    group), then channel, topic, status, handler, open or overdue, and who came."""

    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=_blank(_("All")) + Channel.choices
    )
    topic = forms.ChoiceField(
        label=_("Topic"), required=False, choices=_blank(_("All")) + Topic.choices
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(_("All")) + ConsultationStatus.choices
    )
    handler = HandlerField(
        label=_("Handled by"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )
    state = forms.ChoiceField(label=_("Still open"), required=False, choices=())
    q = forms.CharField(label=_("Who came"), required=False, max_length=50)

    field_order = [
        "q",
        "area",
        "channel",
        "topic",
        "status",
        "state",
        "handler",
        "date_from",
        "date_to",
        "archived",
    ]

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, user=user, **kwargs)
        del self.fields["group"]
        self.fields["handler"].queryset = users_visible_to(user).order_by("real_name", "username")
        self.fields["state"].choices = [
            ("", _("All")),
            ("open", _("Open or in progress")),
            ("overdue", _("Open more than %(days)d days") % {"days": OVERDUE_DAYS}),
        ]
        self.order_fields(self.field_order)

    def clean_q(self):
        return typed_text(self.cleaned_data.get("q"), 50)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class ConsultationForm(forms.ModelForm):
    """A consultation as the desk records it. The person box offers only the persons the
    search found (and the one chosen); a posted person is checked against all the user may
    see, so a foreign id is a form error, never a record."""

    person_search = forms.CharField(
        label=_("Find the person"),
        required=False,
        max_length=50,
        help_text=_("Name, pinyin or its initials (mxd), or address; then press Find."),
    )
    received_at = forms.DateTimeField(
        label=_("Received at"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Consultation
        fields = [
            "community",
            "person",
            "visitor",
            "visitor_phone",
            "channel",
            "topic",
            "received_at",
            "summary",
            "handler",
            "status",
            "referred_to",
            "resolution",
            "closed_on",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 4}),
            "resolution": forms.Textarea(attrs={"rows": 3}),
            "closed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        field_classes = {
            "community": AreaField,
            "person": PersonChoiceField,
            "handler": HandlerField,
        }

    def __init__(self, *args, user, persons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        instance = self.instance
        areas = consultation_areas(user)
        if instance.pk:  # keep the area it has, even if it has since been closed
            areas = Area.objects.filter(Q(pk__in=areas.values("pk")) | Q(pk=instance.community_id))
            areas = areas.order_by("path")
        self.fields["community"].queryset = areas
        self.fields["community"].label = _("Area")
        self.fields["community"].help_text = _("The community or street office that received it.")

        person = self.fields["person"]
        person.queryset = (
            Person.objects.visible_to(user).current().select_related("household", "community")
        )
        person.required = False
        person.empty_label = _("Not in the register, or not chosen")
        # Render only the persons found (and the one chosen), not the whole register.
        person.widget.choices = [("", person.empty_label)] + [
            (p.pk, person_label(p)) for p in persons
        ]

        handlers = users_visible_to(user).filter(is_active=True)
        wanted = Q(pk__in=handlers.values("pk")) | Q(pk=user.pk)
        if instance.handler_id:
            wanted |= Q(pk=instance.handler_id)
        self.fields["handler"].queryset = User.objects.filter(wanted).order_by(
            "real_name", "username"
        )
        self.fields["status"].help_text = _(
            "Open → in progress → resolved, or referred to another office."
        )
        self.fields["closed_on"].help_text = _("Left empty, today's date is filled in.")
        self.fields["resolution"].help_text = _("Required once it is resolved.")
        self.fields["referred_to"].help_text = _("Required when it is referred.")
        if instance.pk:
            del self.fields["submission_key"]
        if instance.received_at and not self.is_bound:
            self.initial["received_at"] = timezone.localtime(instance.received_at).strftime(
                DATETIME_LOCAL
            )

    def clean_person_search(self):
        return typed_text(self.cleaned_data.get("person_search"), 50)

    def clean_visitor(self):
        return typed_text(self.cleaned_data.get("visitor"), 100)

    def clean_received_at(self):
        received_at = self.cleaned_data.get("received_at")
        # as typed, in the local time zone (converting year 1 to UTC would overflow)
        if received_at and received_at.date() < EARLIEST_DAY:
            raise forms.ValidationError(_("This is before 1900: check the year."))
        return received_at

    def clean_closed_on(self):
        day = self.cleaned_data.get("closed_on")
        no_future(day, _("It cannot be closed on a day that has not come yet."))
        return day

    def clean(self):
        data = super().clean()
        area, person = data.get("community"), data.get("person")
        if area and person and not person.community.path.startswith(area.path):
            self.add_error(
                "person",
                _("%(name)s lives in %(community)s, outside %(area)s: choose that area.")
                % {"name": person.name, "community": person.community.name, "area": area.name},
            )
        handler = data.get("handler")
        if area and handler and handler.pk != self.user.pk and not can_see_area(handler, area):
            self.add_error(
                "handler",
                _("%(name)s has no post in %(area)s and could not see this consultation.")
                % {"name": handler.display_name, "area": area.name},
            )
        status = data.get("status")
        if status == ConsultationStatus.RESOLVED and not (data.get("resolution") or "").strip():
            self.add_error("resolution", _("Say how it was resolved."))
        return data

    def save(self, commit=True):
        consultation = super().save(commit=False)
        key = self.cleaned_data.get("submission_key")
        if not consultation.pk and key:
            consultation.submission_key = key
        if commit:
            consultation.save()
        return consultation
