"""Writes to the network's people: liaisons, their group memberships and zone posts, and the
members of a sub-district's leadership and coordination groups.

The rules (seed 000's organisation chart): a liaison group has one leader (组长) at a time,
a zone one head (片长) at a time, and nobody holds the same seat twice at once. Dates are
inclusive: a seat that ends on a day is still held that day, so a successor starts the day
after. Each function is atomic and keyword-only; django-simple-history records who and when,
the change reason says what.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from network.access import can_change_area
from network.models import Area, AreaLevel, LiaisonGroup, Post
from outreach.models import (
    GroupMembership,
    GroupPosition,
    Liaison,
    WorkGroup,
    WorkGroupMember,
    ZonePosition,
    ZonePost,
)
from residents.archiving import set_archived


def _reason(obj, text: str):
    obj._change_reason = text


def overlapping(seats, start_date: datetime.date):
    """Seats (memberships, posts) still held on or after ``start_date``: an open-ended seat
    starting that day would overlap each of them."""
    return seats.filter(Q(end_date__isnull=True) | Q(end_date__gte=start_date))


def _require_change(by, area: Area):
    if not can_change_area(by, area):
        raise ValidationError(_("This record is outside the areas you manage."))


# ---------------------------------------------------------------- liaisons


def check_liaison_links(liaison: Liaison) -> None:
    """An account, and a person of the register, stands for one current liaison record: a
    second record would split their memberships, visits and meetings in two."""
    others = Liaison.objects.current().exclude(pk=liaison.pk)
    errors = {}
    if liaison.user_id:
        taken = others.filter(user_id=liaison.user_id).select_related("community").first()
        if taken:
            errors["user"] = _("This account already belongs to liaison %(name)s (%(c)s).") % {
                "name": taken.name,
                "c": taken.community.name,
            }
    if liaison.person_id:
        taken = others.filter(person_id=liaison.person_id).select_related("community").first()
        if taken:
            errors["person"] = _("This person is already recorded as liaison %(name)s (%(c)s).") % {
                "name": taken.name,
                "c": taken.community.name,
            }
    if errors:
        raise ValidationError(errors)


def account_holds_post_in(user, community: Area) -> bool:
    """Whether an account holds a current post in the community (staff or liaison)."""
    return Post.objects.current().filter(user=user, area=community).exists()


def liaison_archive(*, by, liaison: Liaison) -> Liaison:
    """Archive a liaison: hidden from lists, nothing deleted; memberships and zone posts keep
    their dates (end them first to record when the liaison stepped down)."""
    _require_change(by, liaison.community)
    if liaison.is_archived:
        raise ValidationError(_("This liaison is already archived."))
    set_archived(liaison, True)
    return liaison


def liaison_restore(*, by, liaison: Liaison) -> Liaison:
    """Bring an archived liaison back, unless their account or person has meanwhile been
    given to another current liaison record."""
    _require_change(by, liaison.community)
    if not liaison.is_archived:
        raise ValidationError(_("This liaison is not archived."))
    with transaction.atomic():
        check_liaison_links(liaison)
        set_archived(liaison, False)
    return liaison


# ---------------------------------------------------------------- seats with dates


def _end_seat(seat, end_date: datetime.date, by_area: Area, by):
    _require_change(by, by_area)
    if seat.end_date is not None:
        raise ValidationError(_("This has already ended, on %(d)s.") % {"d": seat.end_date})
    if end_date is None:
        raise ValidationError({"end_date": _("Enter the date it ends.")})
    if end_date < seat.start_date:
        raise ValidationError(
            {"end_date": _("It cannot end before it started (%(d)s).") % {"d": seat.start_date}}
        )
    seat.end_date = end_date
    _reason(seat, "ended")
    seat.save()
    return seat


def _seat(model, *, liaison, where, place, position, start_date, sole, already, taken):
    """Seat ``liaison`` (a GroupMembership or a ZonePost at ``place``, its field ``where``).
    Refused when they already sit there, or when ``position`` is the ``sole`` one (leader,
    head) and someone else holds it: ``already(seat)`` and ``taken(seat)`` say so."""
    with transaction.atomic():
        seats = model.objects.select_for_update().filter(**{where: place})
        mine = overlapping(seats.filter(liaison=liaison), start_date).first()
        if mine is not None:
            raise ValidationError({where: already(mine)})
        if position == sole:
            holder = (
                overlapping(seats.filter(position=sole), start_date)
                .select_related("liaison")
                .first()
            )
            if holder is not None:
                raise ValidationError({"position": taken(holder)})
        seat = model(liaison=liaison, position=position, start_date=start_date, **{where: place})
        seat.full_clean()
        _reason(seat, "added")
        seat.save()
    return seat


def membership_add(
    *,
    by,
    liaison: Liaison,
    group: LiaisonGroup,
    position: str,
    start_date: datetime.date,
) -> GroupMembership:
    """Put a liaison in a group of their community. One leader per group at a time; one
    seat per liaison per group at a time."""
    _require_change(by, group.community)
    if liaison.is_archived:
        raise ValidationError(_("Restore this liaison before giving them a place in a group."))
    if group.community_id != liaison.community_id:
        raise ValidationError({"group": _("Choose a liaison group of the liaison's community.")})
    if not group.is_active:
        raise ValidationError({"group": _("This liaison group is no longer active.")})
    return _seat(
        GroupMembership,
        liaison=liaison,
        where="group",
        place=group,
        position=position,
        start_date=start_date,
        sole=GroupPosition.LEADER,
        already=lambda mine: (
            _("%(name)s is already in this group (since %(d)s); end that membership first.")
            % {"name": liaison.name, "d": mine.start_date}
        ),
        taken=lambda leader: (
            _(
                "%(group)s already has a group leader: %(name)s. End their "
                "membership first; a group has one leader at a time."
            )
            % {"group": group.name, "name": leader.liaison.name}
        ),
    )


def membership_end(*, by, membership: GroupMembership, end_date) -> GroupMembership:
    with transaction.atomic():
        return _end_seat(membership, end_date, membership.group.community, by)


def zone_post_add(
    *,
    by,
    liaison: Liaison,
    zone: Area,
    position: str,
    start_date: datetime.date,
) -> ZonePost:
    """Make a liaison head (片长) or liaison (片联络员) of a zone of their sub-district. One
    head per zone at a time; one post per liaison per zone at a time."""
    _require_change(by, zone)
    if liaison.is_archived:
        raise ValidationError(_("Restore this liaison before giving them a zone post."))
    if zone.level != AreaLevel.ZONE or zone.parent_id not in liaison.community.ancestor_ids():
        raise ValidationError({"zone": _("Choose a zone of the liaison's sub-district.")})
    return _seat(
        ZonePost,
        liaison=liaison,
        where="zone",
        place=zone,
        position=position,
        start_date=start_date,
        sole=ZonePosition.HEAD,
        already=lambda mine: (
            _("%(name)s already holds a post in this zone (since %(d)s); end it first.")
            % {"name": liaison.name, "d": mine.start_date}
        ),
        taken=lambda head: (
            _(
                "%(zone)s already has a zone head: %(name)s. End that post "
                "first; a zone has one head at a time."
            )
            % {"zone": zone.name, "name": head.liaison.name}
        ),
    )


def zone_post_end(*, by, post: ZonePost, end_date) -> ZonePost:
    with transaction.atomic():
        return _end_seat(post, end_date, post.zone, by)


# ---------------------------------------------------------------- leadership and coordination


def work_group_archive(*, by, group: WorkGroup) -> WorkGroup:
    _require_change(by, group.subdistrict)
    if group.is_archived:
        raise ValidationError(_("This group is already archived."))
    set_archived(group, True)
    return group


def work_group_restore(*, by, group: WorkGroup) -> WorkGroup:
    _require_change(by, group.subdistrict)
    if not group.is_archived:
        raise ValidationError(_("This group is not archived."))
    set_archived(group, False)
    return group


def work_group_member_add(*, by, member: WorkGroupMember) -> WorkGroupMember:
    """Seat a member (a person, or a member unit of a coordination group). The same person
    or account is not seated twice at once."""
    group = member.group
    _require_change(by, group.subdistrict)
    if group.is_archived:
        raise ValidationError(_("Restore this group before adding members."))
    with transaction.atomic():
        seats = overlapping(
            WorkGroupMember.objects.select_for_update().filter(group=group), member.start_date
        )
        same = Q(name=member.name)
        if member.user_id:
            same |= Q(user_id=member.user_id)
        taken = seats.filter(same).first()
        if taken is not None:
            raise ValidationError(
                {
                    "name": _(
                        "%(name)s already sits in this group (since %(d)s); end that seat first."
                    )
                    % {"name": taken.name, "d": taken.start_date}
                }
            )
        member.full_clean()
        _reason(member, "added")
        member.save()
    return member


def work_group_member_end(*, by, member: WorkGroupMember, end_date) -> WorkGroupMember:
    with transaction.atomic():
        return _end_seat(member, end_date, member.group.subdistrict, by)
