"""Pages of the network's people: liaisons (list, detail, create, edit, archive, restore),
their group memberships and zone posts, and the leadership and coordination groups of the
sub-districts with their members.

Views stay thin: records come through ``visible_to``/``changeable_by``, reading lives in
``selectors_people``, the rules of seats in ``operations_people``."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from network.access import can_change_area, get_changeable_or_404, get_visible_or_404
from network.forms import add_refusal
from network.models import Area, AreaLevel
from network.scoped import scoped_view
from outreach import operations_people as ops
from outreach import selectors_people as sel
from outreach.forms_people import (
    EndForm,
    LiaisonFilterForm,
    LiaisonForm,
    MembershipForm,
    WorkGroupFilterForm,
    WorkGroupForm,
    WorkGroupMemberForm,
    ZonePostForm,
)
from outreach.models import GroupMembership, Liaison, WorkGroup, WorkGroupMember, ZonePost
from residents.archiving import archive_or_restore
from residents.pages import page_of
from residents.typed_input import whole_number


def _form_page(request, *, form, title, cancel_url, subtitle="", submit=None, other=None):
    return render(
        request,
        "outreach/people/form.html",
        {
            "form": form,
            "title": title,
            "subtitle": subtitle,
            "cancel_url": cancel_url,
            "submit": submit or _("Save"),
            "other_url": other[0] if other else None,
            "other_label": other[1] if other else None,
        },
    )


def _form_flow(request, form, save, **page):
    """A form page. On a valid POST ``save()`` writes, says what it did and returns where to
    go next; a rule's refusal (a ValidationError) shows beside the field it concerns."""
    if request.method == "POST":
        if form.is_valid():
            try:
                return redirect(save())
            except ValidationError as exc:
                add_refusal(form, exc)
        messages.error(request, _("Nothing was saved: correct the fields marked below."))
    return _form_page(request, form=form, **page)


def _end_flow(request, seat, *, end, done, what, back):
    """End a seat (membership, zone post, work group seat): ``end(end_date)`` writes it."""
    form = EndForm(request.POST or None)

    def save():
        end(form.cleaned_data["end_date"])
        messages.success(request, done)
        return back

    return _form_flow(
        request,
        form,
        save,
        title=_("End %(what)s") % {"what": what},
        subtitle=_("Held since %(d)s") % {"d": seat.start_date},
        cancel_url=back,
        submit=_("End"),
    )


def _changeable_liaison(request, pk):
    return get_changeable_or_404(Liaison.objects.select_related("community"), request.user, pk=pk)


def _changeable_group(request, pk):
    return get_changeable_or_404(
        WorkGroup.objects.select_related("subdistrict"), request.user, pk=pk
    )


def _restore_first(request, liaison):
    messages.error(request, _("Restore this liaison first; archived records are not changed."))
    return redirect("outreach:liaison-detail", pk=liaison.pk)


# ---------------------------------------------------------------- liaisons


@scoped_view("outreach.view_liaison")
@require_http_methods(["GET"])
def liaison_list(request):
    viewer = sel.PeopleViewer.of(request.user)
    form = LiaisonFilterForm(request.GET or None, user=request.user)
    liaisons = sel.with_current_seats(
        sel.liaison_queryset(request.user, form.filters), request.user, viewer
    )
    page = page_of(request, liaisons)
    return render(
        request,
        "outreach/people/liaison_list.html",
        {
            "form": form,
            "page": page,
            "rows": sel.liaison_rows(page.object_list, request.user, viewer),
            "viewer": viewer,
            "filtered": bool(form.filters),
        },
    )


@scoped_view("outreach.view_liaison")
@require_http_methods(["GET"])
def liaison_detail(request, pk):
    viewer = sel.PeopleViewer.of(request.user)
    liaison = get_visible_or_404(
        Liaison.objects.select_related("community", "user", "person__household__community"),
        request.user,
        pk=pk,
    )
    can_change = viewer.staff and can_change_area(request.user, liaison.community)
    memberships = list(sel.liaison_memberships(liaison, request.user)) if viewer.memberships else []
    zone_posts = list(sel.liaison_zone_posts(liaison, request.user)) if viewer.zone_posts else []
    return render(
        request,
        "outreach/people/liaison_detail.html",
        {
            "liaison": liaison,
            "mobile": sel.mask_mobile(liaison.mobile, staff=viewer.staff),
            "household_url": sel.household_url_for(liaison.person, request.user, viewer),
            "memberships": [(m, sel.is_current(m)) for m in memberships],
            "zone_posts": [(p, sel.is_current(p)) for p in zone_posts],
            "pairings": (
                list(sel.liaison_pairings(liaison, request.user)) if viewer.pairings else None
            ),
            "meetings": (sel.meetings_attended(liaison, request.user) if viewer.meetings else None),
            "history": sel.liaison_history(liaison, viewer),
            "viewer": viewer,
            "can_change": can_change,
            "can_add_membership": can_change
            and request.user.has_perm("outreach.add_groupmembership"),
            "can_end_membership": can_change
            and request.user.has_perm("outreach.change_groupmembership"),
            "can_add_zone_post": request.user.has_perm("outreach.add_zonepost")
            and not liaison.is_archived
            and sel.zones_for(request.user, liaison).exists(),
            "can_end_zone_post": request.user.has_perm("outreach.change_zonepost"),
        },
    )


def _communities_to_choose(user):
    return (
        Area.objects.changeable_by(user)
        .filter(level=AreaLevel.COMMUNITY, is_active=True)
        .order_by("path")
    )


@scoped_view("outreach.add_liaison")
@require_http_methods(["GET", "POST"])
def liaison_create(request):
    communities = list(_communities_to_choose(request.user))
    if not communities:
        raise PermissionDenied(_("You manage no community, so you cannot add liaisons."))
    community = None
    wanted = whole_number(request.GET.get("community"))
    if wanted is not None:
        community = next((c for c in communities if c.pk == wanted), None)
    if community is None and len(communities) == 1:
        community = communities[0]
    if request.method == "GET" and community is None:
        # accounts and residents are offered from one community: choose it first
        return render(
            request,
            "outreach/people/liaison_choose_community.html",
            {"communities": communities},
        )
    form = LiaisonForm(request.POST or None, user=request.user, community=community)

    def save():
        liaison = form.save()
        messages.success(request, _("Liaison %(name)s added.") % {"name": liaison.name})
        return reverse("outreach:liaison-detail", args=[liaison.pk])

    return _form_flow(
        request,
        form,
        save,
        title=_("New liaison"),
        subtitle=community.name if community else "",
        cancel_url=reverse("outreach:liaison-list"),
        other=(
            (reverse("outreach:liaison-create"), _("Choose another community"))
            if len(communities) > 1
            else None
        ),
    )


@scoped_view("outreach.change_liaison")
@require_http_methods(["GET", "POST"])
def liaison_edit(request, pk):
    liaison = _changeable_liaison(request, pk)
    if liaison.is_archived:
        return _restore_first(request, liaison)
    form = LiaisonForm(request.POST or None, instance=liaison, user=request.user)

    def save():
        form.save()
        messages.success(request, _("Liaison %(name)s saved.") % {"name": liaison.name})
        return reverse("outreach:liaison-detail", args=[liaison.pk])

    return _form_flow(
        request,
        form,
        save,
        title=_("Edit liaison %(name)s") % {"name": liaison.name},
        cancel_url=reverse("outreach:liaison-detail", args=[liaison.pk]),
    )


def _liaison_archived(request, pk, *, archived: bool):
    liaison = _changeable_liaison(request, pk)
    change = ops.liaison_archive if archived else ops.liaison_restore
    return archive_or_restore(
        request,
        liaison,
        archived=archived,
        done=(
            _("Liaison %(name)s archived; they can be restored at any time.")
            if archived
            else _("Liaison %(name)s restored.")
        )
        % {"name": liaison.name},
        already=None,
        change=lambda: change(by=request.user, liaison=liaison),
        detail="outreach:liaison-detail",
    )


@scoped_view("outreach.change_liaison")
@require_POST
def liaison_archive(request, pk):
    return _liaison_archived(request, pk, archived=True)


@scoped_view("outreach.change_liaison")
@require_POST
def liaison_restore(request, pk):
    return _liaison_archived(request, pk, archived=False)


# ---------------------------------------------------------------- memberships and zone posts


@scoped_view("outreach.view_liaison", "outreach.add_groupmembership")
@require_http_methods(["GET", "POST"])
def membership_add(request, pk):
    liaison = _changeable_liaison(request, pk)
    if liaison.is_archived:
        return _restore_first(request, liaison)
    form = MembershipForm(request.POST or None, user=request.user, liaison=liaison)

    def save():
        membership = ops.membership_add(by=request.user, liaison=liaison, **form.cleaned_data)
        messages.success(
            request,
            _("%(name)s joined %(group)s as %(position)s.")
            % {
                "name": liaison.name,
                "group": membership.group.name,
                "position": membership.get_position_display(),
            },
        )
        return reverse("outreach:liaison-detail", args=[liaison.pk])

    return _form_flow(
        request,
        form,
        save,
        title=_("Add %(name)s to a liaison group") % {"name": liaison.name},
        subtitle=liaison.community.name,
        cancel_url=reverse("outreach:liaison-detail", args=[liaison.pk]),
    )


@scoped_view("outreach.view_liaison", "outreach.change_groupmembership")
@require_http_methods(["GET", "POST"])
def membership_end(request, pk):
    membership = get_changeable_or_404(
        GroupMembership.objects.select_related("liaison", "group__community"),
        request.user,
        pk=pk,
    )
    return _end_flow(
        request,
        membership,
        end=lambda day: ops.membership_end(by=request.user, membership=membership, end_date=day),
        done=_("Membership ended."),
        what=f"{membership.liaison.name} · {membership.group.name} · "
        f"{membership.get_position_display()}",
        back=reverse("outreach:liaison-detail", args=[membership.liaison_id]),
    )


@scoped_view("outreach.view_liaison", "outreach.add_zonepost")
@require_http_methods(["GET", "POST"])
def zonepost_add(request, pk):
    liaison = _changeable_liaison(request, pk)
    if liaison.is_archived:
        return _restore_first(request, liaison)
    form = ZonePostForm(request.POST or None, user=request.user, liaison=liaison)
    if not sel.zones_for(request.user, liaison).exists():
        raise PermissionDenied(_("You manage no zone of this liaison's sub-district."))

    def save():
        post = ops.zone_post_add(by=request.user, liaison=liaison, **form.cleaned_data)
        messages.success(
            request,
            _("%(name)s is now %(position)s of %(zone)s.")
            % {
                "name": liaison.name,
                "position": post.get_position_display(),
                "zone": post.zone.name,
            },
        )
        return reverse("outreach:liaison-detail", args=[liaison.pk])

    return _form_flow(
        request,
        form,
        save,
        title=_("Give %(name)s a zone post") % {"name": liaison.name},
        subtitle=liaison.community.name,
        cancel_url=reverse("outreach:liaison-detail", args=[liaison.pk]),
    )


@scoped_view("outreach.view_liaison", "outreach.change_zonepost")
@require_http_methods(["GET", "POST"])
def zonepost_end(request, pk):
    post = get_changeable_or_404(
        ZonePost.objects.select_related("liaison", "zone"), request.user, pk=pk
    )
    return _end_flow(
        request,
        post,
        end=lambda day: ops.zone_post_end(by=request.user, post=post, end_date=day),
        done=_("Zone post ended."),
        what=f"{post.liaison.name} · {post.zone.name} · {post.get_position_display()}",
        back=reverse("outreach:liaison-detail", args=[post.liaison_id]),
    )


# ---------------------------------------------------------------- leadership and coordination


def _restore_group_first(request, group):
    messages.error(request, _("Restore this group first; archived records are not changed."))
    return redirect("outreach:workgroup-detail", pk=group.pk)


@scoped_view("outreach.view_workgroup")
@require_http_methods(["GET"])
def workgroup_list(request):
    form = WorkGroupFilterForm(request.GET or None, user=request.user)
    groups = sel.work_group_queryset(request.user, form.filters)
    return render(
        request,
        "outreach/people/workgroup_list.html",
        {
            "form": form,
            "page": page_of(request, groups),
            "filtered": bool(form.filters),
            "can_add": request.user.has_perm("outreach.add_workgroup")
            and Area.objects.changeable_by(request.user)
            .filter(level=AreaLevel.SUBDISTRICT)
            .exists(),
        },
    )


@scoped_view("outreach.view_workgroup", "outreach.view_workgroupmember")
@require_http_methods(["GET"])
def workgroup_detail(request, pk):
    group = get_visible_or_404(WorkGroup.objects.select_related("subdistrict"), request.user, pk=pk)
    current, past = sel.work_group_members(group, request.user)
    can_change = can_change_area(request.user, group.subdistrict)
    return render(
        request,
        "outreach/people/workgroup_detail.html",
        {
            "group": group,
            "current": current,
            "past": past,
            "history": sel.work_group_history(group),
            "can_change": can_change and request.user.has_perm("outreach.change_workgroup"),
            "can_add_member": can_change
            and not group.is_archived
            and request.user.has_perm("outreach.add_workgroupmember"),
            "can_end_member": can_change
            and request.user.has_perm("outreach.change_workgroupmember"),
        },
    )


@scoped_view("outreach.add_workgroup")
@require_http_methods(["GET", "POST"])
def workgroup_create(request):
    form = WorkGroupForm(request.POST or None, user=request.user)
    if not form.fields["subdistrict"].queryset.exists():
        raise PermissionDenied(_("Only staff of a sub-district or the district add these groups."))

    def save():
        group = form.save()
        messages.success(request, _("%(name)s added.") % {"name": group.name})
        return reverse("outreach:workgroup-detail", args=[group.pk])

    return _form_flow(
        request,
        form,
        save,
        title=_("New leadership or coordination group"),
        cancel_url=reverse("outreach:workgroup-list"),
    )


@scoped_view("outreach.change_workgroup")
@require_http_methods(["GET", "POST"])
def workgroup_edit(request, pk):
    group = _changeable_group(request, pk)
    if group.is_archived:
        return _restore_group_first(request, group)
    form = WorkGroupForm(request.POST or None, instance=group, user=request.user)

    def save():
        form.save()
        messages.success(request, _("%(name)s saved.") % {"name": group.name})
        return reverse("outreach:workgroup-detail", args=[group.pk])

    return _form_flow(
        request,
        form,
        save,
        title=_("Edit %(name)s") % {"name": group.name},
        cancel_url=reverse("outreach:workgroup-detail", args=[group.pk]),
    )


def _workgroup_archived(request, pk, *, archived: bool):
    group = _changeable_group(request, pk)
    change = ops.work_group_archive if archived else ops.work_group_restore
    return archive_or_restore(
        request,
        group,
        archived=archived,
        done=(_("%(name)s archived.") if archived else _("%(name)s restored."))
        % {"name": group.name},
        already=None,
        change=lambda: change(by=request.user, group=group),
        detail="outreach:workgroup-detail",
    )


@scoped_view("outreach.change_workgroup")
@require_POST
def workgroup_archive(request, pk):
    return _workgroup_archived(request, pk, archived=True)


@scoped_view("outreach.change_workgroup")
@require_POST
def workgroup_restore(request, pk):
    return _workgroup_archived(request, pk, archived=False)


@scoped_view("outreach.view_workgroup", "outreach.add_workgroupmember")
@require_http_methods(["GET", "POST"])
def workgroup_member_add(request, pk):
    group = _changeable_group(request, pk)
    if group.is_archived:
        return _restore_group_first(request, group)
    form = WorkGroupMemberForm(request.POST or None, user=request.user, group=group)

    def save():
        member = ops.work_group_member_add(
            by=request.user, member=WorkGroupMember(group=group, **form.cleaned_data)
        )
        messages.success(
            request,
            _("%(name)s added to %(group)s.") % {"name": member.name, "group": group.name},
        )
        return reverse("outreach:workgroup-detail", args=[group.pk])

    return _form_flow(
        request,
        form,
        save,
        title=_("Add a member to %(group)s") % {"group": group.name},
        subtitle=group.subdistrict.name,
        cancel_url=reverse("outreach:workgroup-detail", args=[group.pk]),
    )


@scoped_view("outreach.view_workgroup", "outreach.change_workgroupmember")
@require_http_methods(["GET", "POST"])
def workgroup_member_end(request, pk):
    member = get_changeable_or_404(
        WorkGroupMember.objects.select_related("group__subdistrict"), request.user, pk=pk
    )
    return _end_flow(
        request,
        member,
        end=lambda day: ops.work_group_member_end(by=request.user, member=member, end_date=day),
        done=_("%(name)s's seat ended.") % {"name": member.name},
        what=f"{member.name} · {member.group.name} · {member.get_position_display()}",
        back=reverse("outreach:workgroup-detail", args=[member.group_id]),
    )
