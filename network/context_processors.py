from network.access import has_current_post, may_use_admin


def navigation(request):
    """What the navigation bar may offer: nothing scoped to a user without a current post."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_has_post": has_current_post(user), "nav_admin": may_use_admin(user)}
