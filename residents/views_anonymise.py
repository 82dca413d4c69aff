"""The anonymising page (/register/anonymise/): how many persons and households that left
long ago qualify, by community, with the cut-off date; a typed confirmation word and a POST
run it. District bureau staff and superusers only (``anonymise.may_anonymise``). The rules
live in residents/anonymise.py."""

import datetime
import unicodedata

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from network.models import AuditEvent, AuditKind
from network.scoped import scoped_view
from residents import anonymise

# The word to type, in either language whatever the page's language.
CONFIRM_WORDS = {"确认匿名", "ANONYMISE"}


def confirm_word() -> str:
    return _("ANONYMISE")


class AnonymiseForm(forms.Form):
    cutoff = forms.DateField(widget=forms.HiddenInput)
    confirmation = forms.CharField(
        label=gettext_lazy("Type the confirmation word"), max_length=20, strip=True
    )

    def __init__(self, *args, expected_cutoff: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected_cutoff = expected_cutoff
        self.fields["cutoff"].error_messages["invalid"] = _(
            "The cut-off date was not understood; reload the page."
        )
        self.fields["cutoff"].error_messages["required"] = _(
            "The cut-off date is missing; reload the page."
        )
        self.fields["confirmation"].error_messages["required"] = _(
            "Type the confirmation word to go on."
        )

    def clean_cutoff(self):
        cutoff = self.cleaned_data["cutoff"]
        if cutoff != self.expected_cutoff:
            raise forms.ValidationError(
                _(
                    "The cut-off date has changed since the page was shown (it is now "
                    "%(date)s): look at the counts again before confirming."
                )
                % {"date": self.expected_cutoff.isoformat()}
            )
        return cutoff

    def clean_confirmation(self):
        typed = unicodedata.normalize("NFKC", self.cleaned_data["confirmation"]).strip()
        accepted = {w.upper() for w in CONFIRM_WORDS | {confirm_word()}}
        if typed.upper() not in accepted:
            raise forms.ValidationError(
                _("Type “%(word)s” exactly to confirm.") % {"word": confirm_word()}
            )
        return typed


@scoped_view("residents.change_person", "residents.change_household")
@require_http_methods(["GET", "POST"])
def anonymise_departed(request):
    if not anonymise.may_anonymise(request.user):
        raise PermissionDenied(_("Only district bureau staff may anonymise personal data."))
    cutoff = anonymise.default_cutoff()
    form = AnonymiseForm(
        request.POST if request.method == "POST" else None,
        initial={"cutoff": cutoff},
        expected_cutoff=cutoff,
    )
    if request.method == "POST" and form.is_valid():
        try:
            done = anonymise.persons_anonymise(user=request.user, cutoff=cutoff, request=request)
        except anonymise.AnonymiseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Anonymised %(persons)s persons and %(households)s households.")
                % {"persons": done.persons, "households": done.households},
            )
            return redirect("residents:anonymise")
    found = anonymise.preview(request.user, cutoff)
    past = (
        AuditEvent.objects.visible_to(request.user)
        .filter(kind=AuditKind.ANONYMISE)
        .select_related("user")
        .order_by("-at", "-pk")[:10]
    )
    return render(
        request,
        "residents/anonymise.html",
        {
            "form": form,
            "found": found,
            "years": anonymise.years_after(),
            "word": confirm_word(),
            "past": past,
        },
    )
