"""Forms of the network's people: the liaison list's filters, a liaison, a membership, a zone
post, a leadership or coordination group and its members, and the end date of a seat.

Every choice is limited to records the user may see or change; a value from outside (a
forged POST) is refused with a message, never saved and never an error page."""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from network.access import users_visible_to
from network.models import Area, AreaLevel, LiaisonGroup, Post
from outreach.common import recordable_groups
from outreach.models import (
    GroupMembership,
    GroupPosition,
    Liaison,
    WorkGroup,
    WorkGroupKind,
    WorkGroupMember,
    WorkGroupPosition,
    ZonePosition,
    ZonePost,
)
from outreach.operations_people import account_holds_post_in, check_liaison_links
from outreach.selectors_people import zones_for
from residents.models import Person
from residents.pages import AreaField, ListFilterForm, no_future, style_widgets
from residents.typed_input import typed_text, without_control_characters

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_MOBILE = re.compile(r"^1\d{10}$")
_SEPARATORS = re.compile(r"[\s\-‐‑–—()（）]")


def normalise_mobile(raw: str) -> str:
    """'１３９ １２３４ ５６７８', '139-1234-5678', '+86 13912345678' → 13912345678: full-width
    digits and the spaces and dashes people type between groups are taken as meant."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or ""))
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    return text


def _read_choices(field):
    """The options read once as a plain list (iterating the field would query again)."""
    field.choices = [("", field.empty_label)] + [
        (obj.pk, field.label_from_instance(obj)) for obj in field.queryset
    ]


class AccountField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.display_name} ({obj.username})"


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.household.address}"


class CommunityField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


# ---------------------------------------------------------------- the list


class LiaisonFilterForm(ListFilterForm):
    """The liaison list's filters (GET). A value that does not fit is dropped."""

    q = forms.CharField(
        label=_("Full name"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("Name or pinyin initials")}),
    )
    area = AreaField(
        label=_("Area"), queryset=Area.objects.none(), required=False, empty_label=_("All")
    )
    group = forms.ModelChoiceField(
        label=_("Liaison group"),
        queryset=LiaisonGroup.objects.none(),
        required=False,
        empty_label=_("All"),
    )
    login = forms.ChoiceField(
        label=_("Login"),
        required=False,
        choices=[("", _("All")), ("yes", _("With a login")), ("no", _("Without a login"))],
    )
    secretary = forms.BooleanField(label=_("Committee secretaries only"), required=False)
    archived = forms.BooleanField(label=_("Archived only"), required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["area"].queryset = (
            Area.objects.visible_to(user).exclude(level=AreaLevel.DISTRICT).order_by("path")
        )
        self.fields["group"].queryset = LiaisonGroup.objects.visible_to(user).order_by("name")
        _read_choices(self.fields["area"])
        _read_choices(self.fields["group"])
        style_widgets(self.fields)

    def clean_q(self):
        return typed_text(self.cleaned_data.get("q"), 50)


# ---------------------------------------------------------------- one liaison


class LiaisonForm(forms.ModelForm):
    """A liaison with or without a login; a resident who is one is linked to the register.

    ``community`` is the community the accounts and persons are offered from: the one
    posted, else the record's, else the one chosen before the form was shown."""

    name = forms.CharField(
        label=_("Full name"),
        max_length=50,
        required=False,
        help_text=_("Leave empty to take the name of the person chosen from the register."),
    )
    mobile = forms.CharField(label=_("Mobile"), max_length=30, required=False)

    class Meta:
        model = Liaison
        fields = [
            "community",
            "name",
            "user",
            "person",
            "mobile",
            "unit",
            "is_committee_secretary",
            "note",
        ]
        field_classes = {"community": CommunityField, "user": AccountField, "person": PersonField}
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, community=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        communities = Area.objects.changeable_by(user).filter(
            level=AreaLevel.COMMUNITY, is_active=True
        )
        if self.instance.pk and self.instance.community_id:
            # a record kept in a community that was since closed can still be edited
            communities = communities | Area.objects.filter(pk=self.instance.community_id)
        self.fields["community"].queryset = communities.order_by("path")
        self.fields["community"].empty_label = None
        offered = community or (self.instance.community if self.instance.pk else None)
        if offered is not None:
            self.fields["community"].initial = offered.pk
        self.fields["user"].required = False
        self.fields["user"].help_text = _(
            "Optional: the login of a liaison who has one (a current post in this community)."
        )
        self.fields["person"].required = False
        self.fields["person"].help_text = _(
            "Optional: when the liaison is a resident in the register of this community."
        )
        self._offer_from(offered)
        self.fields["mobile"].help_text = _("An 11-digit mainland mobile number.")
        style_widgets(self.fields)

    def _offer_from(self, community):
        """Offer the accounts and residents of one community (none before it is chosen),
        and the record's own, even when they no longer fit (a post ended, a person moved),
        so that editing something else does not unlink them."""
        where = [community.pk] if community is not None else []
        accounts = users_visible_to(self.user).filter(
            pk__in=Post.objects.current().filter(area__in=where).values("user_id")
        )
        persons = Person.objects.visible_to(self.user).current().filter(community__in=where)
        self.fields["user"].queryset = self._with_own(accounts, "user_id").order_by(
            "real_name", "username"
        )
        self.fields["person"].queryset = (
            self._with_own(persons, "person_id").select_related("household").order_by("name", "pk")
        )

    def _with_own(self, queryset, attribute):
        own = getattr(self.instance, attribute, None)
        if own is None:
            return queryset
        return queryset | queryset.model._default_manager.filter(pk=own)

    def full_clean(self):
        """Check a posted account or resident against all the user may see, so that one of
        another community is refused by name in ``clean`` rather than as an unknown option;
        then offer those of the posted community again for the page."""
        if not self.is_bound:
            return super().full_clean()
        field = self.fields["community"]
        try:
            community = field.queryset.get(pk=int(str(self.data.get(self.add_prefix("community")))))
        except (ValueError, TypeError, Area.DoesNotExist):
            community = None
        self.fields["user"].queryset = self._with_own(users_visible_to(self.user), "user_id")
        self.fields["person"].queryset = self._with_own(
            Person.objects.visible_to(self.user).current(), "person_id"
        )
        try:
            super().full_clean()
        finally:
            if community is not None:
                field.initial = community.pk
            self._offer_from(community or (self.instance.community if self.instance.pk else None))

    def clean_name(self):
        return typed_text(self.cleaned_data.get("name"), 50)

    def clean_mobile(self):
        mobile = normalise_mobile(self.cleaned_data.get("mobile"))
        if mobile and not _MOBILE.match(mobile):
            raise ValidationError(_("Enter an 11-digit mainland mobile number starting with 1."))
        return mobile

    def clean_unit(self):
        return typed_text(self.cleaned_data.get("unit"), 100)

    def clean_note(self):
        return without_control_characters(self.cleaned_data.get("note") or "").strip()

    def clean(self):
        cleaned = super().clean()
        community = cleaned.get("community")
        account = cleaned.get("user")
        person = cleaned.get("person")
        if community is not None:
            kept = self.instance.pk and self.instance.community_id == community.pk
            if kept and account is not None and account.pk == self.instance.user_id:
                account_checked = True  # unchanged: a post that ended does not block edits
            else:
                account_checked = account is None or account_holds_post_in(account, community)
            if not account_checked:
                self.add_error(
                    "user",
                    _(
                        "%(name)s holds no current post in %(c)s; choose an account of "
                        "this community."
                    )
                    % {"name": account.display_name, "c": community.name},
                )
            person_kept = kept and person is not None and person.pk == self.instance.person_id
            if person is not None and not person_kept and person.community_id != community.pk:
                self.add_error(
                    "person",
                    _("%(name)s is not in the register of %(c)s.")
                    % {"name": person.name, "c": community.name},
                )
            moved = self.instance.pk and self.instance.community_id != community.pk
            if moved and self._holds_seats():
                self.add_error(
                    "community",
                    _(
                        "End this liaison's group memberships and zone posts before moving "
                        "them to another community."
                    ),
                )
        if not cleaned.get("name"):
            if person is not None and "person" not in self.errors:
                cleaned["name"] = person.name
            elif account is not None and "user" not in self.errors:
                cleaned["name"] = account.display_name
            else:
                self.add_error(
                    "name", _("Enter the liaison's name, or choose them from the register.")
                )
        return cleaned

    def _holds_seats(self) -> bool:
        still = Q(end_date__isnull=True) | Q(end_date__gte=timezone.localdate())
        return (
            self.instance.memberships.filter(still).exists()
            or self.instance.zone_posts.filter(still).exists()
        )

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                check_liaison_links(self.instance)
            except ValidationError as exc:
                self._update_errors(exc)


# ---------------------------------------------------------------- seats


class NameChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class SeatForm(forms.ModelForm):
    """A liaison's new seat: where (``place``, one of ``places(user, liaison)``), position and
    start. The rules are checked by operations_people (membership_add, zone_post_add)."""

    place = ""
    wrong_place = ""
    default_position = ""

    def __init__(self, *args, user, liaison: Liaison, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.place].queryset = self.places(user, liaison)
        self.fields[self.place].error_messages["invalid_choice"] = self.wrong_place
        self.fields["position"].initial = self.default_position
        self.fields["start_date"].initial = timezone.localdate()
        style_widgets(self.fields)

    def places(self, user, liaison):
        raise NotImplementedError

    def _post_clean(self):
        pass


class MembershipForm(SeatForm):
    place = "group"
    wrong_place = _("Choose a liaison group of the liaison's community.")
    default_position = GroupPosition.MEMBER

    class Meta:
        model = GroupMembership
        fields = ["group", "position", "start_date"]
        field_classes = {"group": NameChoiceField}
        widgets = {"start_date": DATE}

    def places(self, user, liaison):
        return recordable_groups(user).filter(community=liaison.community)


class ZonePostForm(SeatForm):
    place = "zone"
    wrong_place = _("Choose a zone of the liaison's sub-district.")
    default_position = ZonePosition.LIAISON

    class Meta:
        model = ZonePost
        fields = ["zone", "position", "start_date"]
        field_classes = {"zone": NameChoiceField}
        widgets = {"start_date": DATE}

    def places(self, user, liaison):
        return zones_for(user, liaison)


class EndForm(forms.Form):
    end_date = forms.DateField(label=_("Ends on"), widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["end_date"].initial = timezone.localdate()
        style_widgets(self.fields)


# ---------------------------------------------------------------- leadership and coordination


class WorkGroupFilterForm(ListFilterForm):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *WorkGroupKind.choices]
    )
    subdistrict = CommunityField(
        label=_("Sub-district"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("All"),
    )
    archived = forms.BooleanField(label=_("Archived only"), required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["subdistrict"].queryset = (
            Area.objects.visible_to(user).filter(level=AreaLevel.SUBDISTRICT).order_by("path")
        )
        _read_choices(self.fields["subdistrict"])
        style_widgets(self.fields)


class WorkGroupForm(forms.ModelForm):
    class Meta:
        model = WorkGroup
        fields = ["subdistrict", "kind", "name", "established_on"]
        field_classes = {"subdistrict": CommunityField}
        widgets = {"established_on": DATE}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subdistrict"].queryset = (
            Area.objects.changeable_by(user)
            .filter(level=AreaLevel.SUBDISTRICT, is_active=True)
            .order_by("path")
        )
        self.fields["subdistrict"].empty_label = None
        self.fields["subdistrict"].error_messages["invalid_choice"] = _(
            "Choose a sub-district you manage."
        )
        style_widgets(self.fields)

    def clean_name(self):
        name = typed_text(self.cleaned_data.get("name"), 100)
        if not name:
            raise ValidationError(_("Enter the group's name."))
        return name

    def clean_established_on(self):
        day = self.cleaned_data.get("established_on")
        no_future(day)
        return day


class WorkGroupMemberForm(forms.ModelForm):
    name = forms.CharField(
        label=_("Full name"),
        max_length=50,
        required=False,
        help_text=_("Leave empty to take the account's name, or the unit's for a member unit."),
    )

    class Meta:
        model = WorkGroupMember
        fields = ["name", "user", "position", "unit", "title", "start_date"]
        field_classes = {"user": AccountField}
        widgets = {"start_date": DATE}

    def __init__(self, *args, user, group: WorkGroup, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.group = group
        accounts = Post.objects.current().filter(area__path__startswith=group.subdistrict.path)
        self.fields["user"].queryset = (
            users_visible_to(user)
            .filter(pk__in=accounts.values("user_id"))
            .order_by("real_name", "username")
        )
        self.fields["user"].required = False
        self.fields["user"].help_text = _("Optional: the member's login, if they have one.")
        self.fields["user"].error_messages["invalid_choice"] = _(
            "Choose an account with a current post in this sub-district."
        )
        self.fields["start_date"].initial = timezone.localdate()
        style_widgets(self.fields)

    def clean(self):
        cleaned = super().clean()
        for key in ("name", "unit", "title"):
            if key in cleaned:
                cleaned[key] = typed_text(cleaned.get(key), 100)
        position = cleaned.get("position")
        if position == WorkGroupPosition.MEMBER_UNIT and not cleaned.get("unit"):
            self.add_error("unit", _("Enter the member unit."))
        if not cleaned.get("name"):
            account = cleaned.get("user")
            if account is not None:
                cleaned["name"] = account.display_name
            elif position == WorkGroupPosition.MEMBER_UNIT and cleaned.get("unit"):
                cleaned["name"] = cleaned["unit"]
            elif "user" not in self.errors:
                self.add_error("name", _("Enter the member's name."))
        return cleaned

    def _post_clean(self):
        pass  # the rules are checked by operations_people.work_group_member_add
