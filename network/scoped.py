"""View building blocks that make an unscoped view hard to write by accident.

Every view declares how it is reached, and the URL-walk test (tests/network/test_url_walk.py)
fails for any URL whose view declares nothing:

- ``public``: reachable without signing in (login page, health check, language switch);
- ``login``: signed-in users, touches no area-scoped data (home page, password change);
- ``scoped``: signed in, holding a current post, records fetched only through
  ``visible_to``/``changeable_by`` (404 outside scope), and the role's Django permission
  checked (403 inside scope without the capability);
- ``account``: signed in with a login that an app binds to one record instead of to areas
  (a partner merchant's till): the view sees that record and what hangs from it, nothing
  else, and every other login is refused (403).
"""

from functools import wraps

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.utils.translation import gettext as _
from django.views import generic

from network.access import has_current_post

PUBLIC, LOGIN, SCOPED, ACCOUNT = "public", "login", "scoped", "account"


def public_view(view):
    view.tongxin_access = PUBLIC
    return view


def login_only_view(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapped.tongxin_access = LOGIN
    return wrapped


def _check_post_and_permissions(request, permissions):
    if not has_current_post(request.user):
        raise PermissionDenied(_("You hold no current post, so there is nothing for you to see."))
    if permissions and not request.user.has_perms(permissions):
        raise PermissionDenied(_("Your role does not allow this."))


def scoped_view(*permissions: str):
    """Decorate a function view that reads scoped records; pass the permissions it needs."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            _check_post_and_permissions(request, permissions)
            return view(request, *args, **kwargs)

        wrapped.tongxin_access = SCOPED
        return wrapped

    return decorator


def account_view(bound_record):
    """Decorate a view for logins bound to one record: ``bound_record(user)`` returns it (or
    None: 403). The view is called as ``view(request, record, *args, **kwargs)``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            record = bound_record(request.user)
            if record is None:
                raise PermissionDenied(_("This page is for a partner merchant's own login."))
            return view(request, record, *args, **kwargs)

        wrapped.tongxin_access = ACCOUNT
        return wrapped

    return decorator


class LoginOnlyMixin(LoginRequiredMixin):
    tongxin_access = LOGIN


class ScopedViewMixin(LoginRequiredMixin):
    """Login, a current post and the permissions in ``permission_required``.

    ``get_queryset`` returns only the records the user may see; editing views set
    ``for_change = True`` to get only the records they may change.
    """

    tongxin_access = SCOPED
    permission_required: tuple[str, ...] = ()
    for_change = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        _check_post_and_permissions(request, self.get_permission_required())
        return super().dispatch(request, *args, **kwargs)

    def get_permission_required(self) -> tuple[str, ...]:
        if isinstance(self.permission_required, str):
            return (self.permission_required,)
        return tuple(self.permission_required)

    def get_base_queryset(self):
        if getattr(self, "model", None) is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a model.")
        return self.model._default_manager.all()

    def get_queryset(self):
        qs = self.get_base_queryset()
        if self.for_change:
            return qs.changeable_by(self.request.user)
        return qs.visible_to(self.request.user)


class ScopedListView(ScopedViewMixin, generic.ListView):
    paginate_by = 50


class ScopedDetailView(ScopedViewMixin, generic.DetailView):
    pass


class ScopedUpdateView(ScopedViewMixin, generic.UpdateView):
    for_change = True


class ScopedFormView(ScopedViewMixin, generic.FormView):
    pass


class ScopedTemplateView(ScopedViewMixin, generic.TemplateView):
    pass
