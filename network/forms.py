import datetime

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from network.access import roles_grantable_by
from network.models import Area, AreaLevel, LiaisonGroup, Post, Role, User


class LiaisonGroupForm(forms.ModelForm):
    class Meta:
        model = LiaisonGroup
        fields = ["community", "name", "established_on", "is_active", "note"]
        widgets = {"established_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Area.objects.changeable_by(user).filter(
            level=AreaLevel.COMMUNITY
        )


class PostForm(forms.ModelForm):
    """A post given by a manager: roles and areas limited to what they manage."""

    class Meta:
        model = Post
        fields = ["role", "area", "liaison_group", "title", "start_date"]
        widgets = {"start_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, manager, **kwargs):
        super().__init__(*args, **kwargs)
        grantable = roles_grantable_by(manager)
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r.value in grantable]
        self.fields["area"].queryset = Area.objects.changeable_by(manager).exclude(
            level=AreaLevel.ZONE
        )
        self.fields["liaison_group"].queryset = LiaisonGroup.objects.changeable_by(
            manager
        ).select_related("community")
        self.fields["start_date"].initial = timezone.localdate()


class UserCreateForm(forms.ModelForm):
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to have Tongxin make one; it is shown to you once."),
    )

    class Meta:
        model = User
        fields = ["username", "real_name", "mobile"]

    def clean_real_name(self):
        name = self.cleaned_data["real_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the person's real name."))
        return name

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if password:
            candidate = User(
                username=self.cleaned_data.get("username", ""),
                real_name=self.cleaned_data.get("real_name", ""),
            )
            validate_password(password, candidate)
        return password


class UserUpdateForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["real_name", "mobile", "is_active"]


class PostEndForm(forms.Form):
    end_date = forms.DateField(
        label=_("Last day in post"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, post, **kwargs):
        super().__init__(*args, **kwargs)
        self.post = post
        self.fields["end_date"].initial = timezone.localdate()

    def clean_end_date(self):
        end = self.cleaned_data["end_date"]
        if end < self.post.start_date:
            raise forms.ValidationError(_("A post cannot end before it starts."))
        return end


class TableUploadForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Only .csv and .xlsx files can be read."))
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


def add_refusal(form, exc) -> None:
    """Show a domain rule's refusal (a ValidationError) on ``form``: beside the field it
    names, or above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class DateRangeForm(forms.Form):
    """From and to dates of a log's filter (the export log, the audit log): whole days in
    local time, the end day included, an end before the start refused."""

    date_from = forms.DateField(
        label=_("From"),
        required=False,
        validators=[
            MinValueValidator(datetime.date(1900, 1, 1)),
            MaxValueValidator(datetime.date(9000, 1, 1)),
        ],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        validators=[
            MinValueValidator(datetime.date(1900, 1, 1)),
            MaxValueValidator(datetime.date(9000, 1, 1)),
        ],
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", gettext("The end date is before the start date."))
        return data

    def in_dates(self, records, field: str = "at"):
        """``records`` whose ``field`` (a moment) falls on the chosen days."""
        data = self.cleaned_data
        if data.get("date_from"):
            records = records.filter(**{f"{field}__gte": day_start(data["date_from"])})
        if data.get("date_to"):
            next_day = data["date_to"] + datetime.timedelta(days=1)
            records = records.filter(**{f"{field}__lt": day_start(next_day)})
        return records


def day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
