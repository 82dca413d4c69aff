"""Who may see and change which records — the one place that decides it.

Rules (deny by default):
- A user sees the subtree of every area where they hold a *current* post: district bureau
  staff their district, sub-district staff their sub-district, community staff and liaisons
  their community. A post that has ended, or has not started, gives nothing.
- A user with no current post sees nothing; superusers see everything.
- Staff change what they see. A liaison changes records of their own liaison group where a
  model belongs to a group, and otherwise records of their community.

Records an area keeps for everything under it (a sub-district's partner merchants, which
serve its communities) set ``scope_shared_below = True``: they are also *visible* (never
changeable) to users whose area lies below the record's area.

Every model that belongs to an area uses ``ScopedQuerySet`` and names the path to its area
in ``scope_area_field`` (``""`` for ``Area`` itself, ``"community"``, ``"household__community"``
...), and optionally the path to its liaison group in ``scope_group_field``. Views get their
records only through ``visible_to(user)`` / ``changeable_by(user)`` or ``get_visible_or_404``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q
from django.http import Http404

_CACHE_ATTR = "_tongxin_scope"


@dataclass(frozen=True)
class Scope:
    """What one user may reach today, computed once per request."""

    everything: bool = False
    roles: frozenset[str] = frozenset()
    visible_paths: tuple[str, ...] = ()
    changeable_paths: tuple[str, ...] = ()
    group_ids: frozenset[int] = frozenset()
    liaison_only_paths: tuple[str, ...] = ()
    area_ids: tuple[int, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.visible_paths


def _minimal(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor path, so filters stay short."""
    kept: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return tuple(sorted(kept))


def compute_scope(user, on: datetime.date | None = None) -> Scope:
    from network.models import Post, Role

    if user is None or not user.is_authenticated or not user.is_active:
        return Scope()
    if user.is_superuser:
        return Scope(everything=True, roles=frozenset(Role.values))
    posts = list(Post.objects.current(on).filter(user=user).select_related("area"))
    roles = frozenset(p.role for p in posts)
    visible = {p.area.path for p in posts if p.area.is_active}
    staff_paths = {p.area.path for p in posts if p.role != Role.LIAISON and p.area.is_active}
    liaison_paths = {p.area.path for p in posts if p.role == Role.LIAISON and p.area.is_active}
    return Scope(
        roles=roles,
        visible_paths=_minimal(visible),
        changeable_paths=_minimal(staff_paths),
        group_ids=frozenset(
            p.liaison_group_id for p in posts if p.role == Role.LIAISON and p.liaison_group_id
        ),
        liaison_only_paths=_minimal(liaison_paths - staff_paths),
        area_ids=tuple(sorted({p.area_id for p in posts})),
    )


def scope_for(user) -> Scope:
    """The user's scope, cached on the user object (one per request)."""
    scope = getattr(user, _CACHE_ATTR, None)
    if scope is None:
        scope = compute_scope(user)
        if user is not None and user.is_authenticated:
            setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user) -> None:
    """Call after changing a user's posts within the same request."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_current_post(user) -> bool:
    scope = scope_for(user)
    return scope.everything or bool(scope.visible_paths)


def has_role(user, *roles: str) -> bool:
    scope = scope_for(user)
    return scope.everything or bool(scope.roles.intersection(roles))


NOTHING = Q(pk__in=[])


def _path_q(paths, area_field: str) -> Q:
    lookup = f"{area_field}__path__startswith" if area_field else "path__startswith"
    q = Q()
    for path in paths:
        q |= Q(**{lookup: path})
    return q if paths else NOTHING


def area_q(user, area_field: str, *, for_change: bool = False) -> Q:
    """A filter on any area field of a model (e.g. ``"handover_to"`` for incoming handovers),
    for the rare query that is not about the record's own area."""
    scope = scope_for(user)
    if scope.everything:
        return Q()
    return _path_q(scope.changeable_paths if for_change else scope.visible_paths, area_field)


def _ancestor_paths(paths) -> list[str]:
    """The paths of the areas above each of ``paths`` ("/1/4/9/" → "/1/", "/1/4/")."""
    above = set()
    for path in paths:
        ids = [part for part in path.strip("/").split("/") if part]
        above.update("/" + "/".join(ids[:n]) + "/" for n in range(1, len(ids)))
    return sorted(above)


def visible_q(user, model) -> Q:
    scope = scope_for(user)
    if scope.everything:
        return Q()
    area_field = _area_field(model)
    q = _path_q(scope.visible_paths, area_field)
    if getattr(model, "scope_shared_below", False) and scope.visible_paths:
        lookup = f"{area_field}__path__in" if area_field else "path__in"
        q |= Q(**{lookup: _ancestor_paths(scope.visible_paths)})
    return q


def changeable_q(user, model) -> Q:
    scope = scope_for(user)
    if scope.everything:
        return Q()
    q = _path_q(scope.changeable_paths, _area_field(model)) if scope.changeable_paths else NOTHING
    if scope.liaison_only_paths:
        group_field = getattr(model, "scope_group_field", None)
        if group_field is None:
            q |= _path_q(scope.liaison_only_paths, _area_field(model))
        elif scope.group_ids:
            lookup = f"{group_field}__in" if group_field else "pk__in"
            q |= Q(**{lookup: scope.group_ids})
    return q


def _area_field(model) -> str:
    try:
        return model.scope_area_field
    except AttributeError as exc:
        raise TypeError(
            f"{model.__name__} has no scope_area_field: every scoped model names its area."
        ) from exc


class ScopedQuerySet(models.QuerySet):
    """Queryset of a model that belongs to an area (see the module docstring)."""

    def visible_to(self, user):
        return self.filter(visible_q(user, self.model))

    def changeable_by(self, user):
        return self.filter(changeable_q(user, self.model))


def get_visible_or_404(queryset_or_model, user, **lookup):
    """One record the user may see, or 404 — never a hint that it exists elsewhere."""
    qs = _queryset(queryset_or_model).visible_to(user)
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def get_changeable_or_404(queryset_or_model, user, **lookup):
    """One record the user may change; records they may only see also give 404."""
    qs = _queryset(queryset_or_model).changeable_by(user)
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _queryset(queryset_or_model):
    if isinstance(queryset_or_model, models.QuerySet):
        return queryset_or_model
    return queryset_or_model._default_manager.all()


def can_change_area(user, area) -> bool:
    scope = scope_for(user)
    return scope.everything or any(area.path.startswith(p) for p in scope.changeable_paths)


def can_see_area(user, area) -> bool:
    scope = scope_for(user)
    return scope.everything or any(area.path.startswith(p) for p in scope.visible_paths)


def may_use_admin(user) -> bool:
    """The Django admin is for district bureau staff and superusers only."""
    from network.models import Role

    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or Role.DISTRICT in scope_for(user).roles


def users_visible_to(user):
    """Accounts a user may see: those holding (or having held) a post in their scope."""
    from network.models import Post, User

    scope = scope_for(user)
    if scope.everything:
        return User.objects.all()
    if not scope.visible_paths:
        return User.objects.none()
    posts = Post.objects.filter(_path_q(scope.visible_paths, "area"))
    return User.objects.filter(pk__in=posts.values("user_id"), is_superuser=False)


def users_manageable_by(user):
    """Accounts a user may edit: every current post of theirs lies in the manager's staff
    scope with a role the manager may give, so a sub-district cannot take over a bureau
    account or one shared with another sub-district."""
    from network.models import Post, User

    scope = scope_for(user)
    if scope.everything:
        return User.objects.all()
    grantable = roles_grantable_by(user)
    if not grantable or not scope.changeable_paths:
        return User.objects.none()
    inside = Post.objects.filter(_path_q(scope.changeable_paths, "area"))
    current = Post.objects.current()
    beyond = current.exclude(_path_q(scope.changeable_paths, "area")) | current.exclude(
        role__in=grantable
    )
    return User.objects.filter(pk__in=inside.values("user_id"), is_superuser=False).exclude(
        pk__in=beyond.values("user_id")
    )


def posts_manageable_by(user):
    """Posts a manager may end: in their staff scope, with a role they may give."""
    from network.models import Post

    scope = scope_for(user)
    if scope.everything:
        return Post.objects.all()
    return Post.objects.filter(
        _path_q(scope.changeable_paths, "area"), role__in=roles_grantable_by(user)
    )


def roles_grantable_by(user) -> list[str]:
    """Roles a manager may give: their own level and below (district grants all)."""
    from network.models import ROLE_RANK

    scope = scope_for(user)
    if scope.everything:
        return list(ROLE_RANK)
    staff_roles = [r for r in scope.roles if r != "liaison"]
    top_rank = max((ROLE_RANK[r] for r in staff_roles), default=0)
    return [r for r, rank in ROLE_RANK.items() if rank <= top_rank and top_rank >= 3]
