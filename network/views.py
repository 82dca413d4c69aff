from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Prefetch, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from network import operations
from network.access import (
    can_change_area,
    get_changeable_or_404,
    get_visible_or_404,
    posts_manageable_by,
    scope_for,
    users_manageable_by,
    users_visible_to,
)
from network.forms import (
    DateRangeForm,
    LiaisonGroupForm,
    PostEndForm,
    PostForm,
    TableUploadForm,
    UserCreateForm,
    UserUpdateForm,
    add_refusal,
)
from network.home_panels import panels_for
from network.models import Area, ExportLog, LiaisonGroup, Post, User, current_post_q
from network.scoped import login_only_view, public_view, scoped_view
from network.tabular import TableError, read_table


@public_view
@never_cache
def healthz(request):
    """For the load balancer: the app answers and its database does too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _current_posts_prefetch():
    return Prefetch(
        "posts",
        queryset=Post.objects.current().select_related("area", "liaison_group"),
        to_attr="current_posts",
    )


@login_only_view
def home(request):
    posts = (
        Post.objects.filter(user=request.user)
        .select_related("area", "liaison_group")
        .order_by("end_date", "-start_date")
    )
    current = [p for p in posts if p.is_current()]
    past = [p for p in posts if not p.is_current()]
    return render(
        request,
        "network/home.html",
        {
            "current_posts": current,
            "past_posts": past,
            "scope": scope_for(request.user),
            "panels": panels_for(request),
        },
    )


# ---------------------------------------------------------------- areas


def tree_order(areas):
    """Depth-first, siblings by division code then name; ``depth`` set for indentation."""
    by_parent: dict = {}
    ids = {a.pk for a in areas}
    for area in areas:
        by_parent.setdefault(area.parent_id if area.parent_id in ids else None, []).append(area)
    ordered = []

    def visit(parent_id, depth):
        children = sorted(by_parent.get(parent_id, []), key=lambda a: (a.code or "", a.name))
        for child in children:
            child.depth = depth
            ordered.append(child)
            visit(child.pk, depth + 1)

    visit(None, 0)
    return ordered


@scoped_view("network.view_area")
def area_list(request):
    areas = Area.objects.visible_to(request.user).annotate(
        group_count=Count(
            "liaison_groups", filter=Q(liaison_groups__is_active=True), distinct=True
        ),
        child_count=Count("children", distinct=True),
    )
    rows = tree_order(list(areas))
    return render(request, "network/area_list.html", {"areas": rows})


@scoped_view("network.view_area")
def area_detail(request, pk):
    area = get_visible_or_404(Area.objects.select_related("parent"), request.user, pk=pk)
    children = area.children.visible_to(request.user).annotate(
        group_count=Count("liaison_groups", distinct=True)
    )
    groups = (
        LiaisonGroup.objects.visible_to(request.user)
        .filter(community=area)
        .annotate(liaison_count=Count("posts", filter=current_post_q("posts__"), distinct=True))
    )
    staff_posts = (
        Post.objects.current()
        .filter(area=area)
        .select_related("user", "liaison_group")
        .order_by("role", "user__real_name")
    )
    return render(
        request,
        "network/area_detail.html",
        {
            "area": area,
            "ancestors": [a for a in area.ancestors() if _visible(request.user, a)],
            "children": children,
            "groups": groups,
            "populations": area.populations.all()[:10],
            "staff_posts": staff_posts,
            "can_change": can_change_area(request.user, area),
        },
    )


def _visible(user, area):
    from network.access import can_see_area

    return can_see_area(user, area)


@scoped_view("network.add_liaisongroup")
@require_http_methods(["GET", "POST"])
def liaison_group_create(request):
    initial = {}
    community_id = request.GET.get("community")
    if community_id and community_id.isdigit():
        initial["community"] = community_id
    form = LiaisonGroupForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        group = form.save()
        messages.success(request, _("Liaison group %(name)s created.") % {"name": group.name})
        return redirect("network:area-detail", pk=group.community_id)
    return render(request, "network/form.html", {"form": form, "title": _("New liaison group")})


@scoped_view("network.change_liaisongroup")
@require_http_methods(["GET", "POST"])
def liaison_group_update(request, pk):
    group = get_changeable_or_404(LiaisonGroup, request.user, pk=pk)
    form = LiaisonGroupForm(request.POST or None, instance=group, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Liaison group %(name)s saved.") % {"name": group.name})
        return redirect("network:area-detail", pk=group.community_id)
    return render(
        request,
        "network/form.html",
        {"form": form, "title": _("Edit liaison group"), "object": group},
    )


# ---------------------------------------------------------------- accounts and posts


@scoped_view("network.view_user")
def user_list(request):
    users = (
        users_visible_to(request.user)
        .prefetch_related(_current_posts_prefetch())
        .order_by("real_name", "username")
    )
    query = request.GET.get("q", "").strip()
    if query:
        users = users.filter(
            Q(real_name__icontains=query) | Q(username__icontains=query) | Q(mobile__contains=query)
        )
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    manageable_ids = set(
        users_manageable_by(request.user)
        .filter(pk__in=[u.pk for u in page])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "network/user_list.html",
        {"page": page, "query": query, "manageable_ids": manageable_ids},
    )


@scoped_view("network.view_user")
def user_detail(request, pk):
    person = get_object_or_404(users_visible_to(request.user), pk=pk)
    posts = person.posts.select_related("area", "liaison_group").order_by("-start_date")
    history = (
        User.history.filter(id=person.pk)
        .select_related("history_user")
        .order_by("-history_date")[:20]
    )
    post_history = (
        Post.history.filter(user_id=person.pk)
        .select_related("history_user")
        .order_by("-history_date")[:20]
    )
    manageable = users_manageable_by(request.user).filter(pk=person.pk).exists()
    return render(
        request,
        "network/user_detail.html",
        {
            "person": person,
            "posts": posts,
            "history": history,
            "post_history": post_history,
            "manageable": manageable,
            "changeable_post_ids": set(
                posts_manageable_by(request.user).filter(user=person).values_list("pk", flat=True)
            ),
        },
    )


@scoped_view("network.add_user", "network.add_post")
@require_http_methods(["GET", "POST"])
def user_create(request):
    user_form = UserCreateForm(request.POST or None, prefix="user")
    post_form = PostForm(request.POST or None, manager=request.user, prefix="post")
    if request.method == "POST" and user_form.is_valid() and post_form.is_valid():
        password = user_form.cleaned_data["password"] or operations.new_initial_password()
        try:
            person, _post = operations.user_create_with_post(
                by=request.user,
                username=user_form.cleaned_data["username"],
                real_name=user_form.cleaned_data["real_name"],
                mobile=user_form.cleaned_data["mobile"],
                password=password,
                role=post_form.cleaned_data["role"],
                area=post_form.cleaned_data["area"],
                liaison_group=post_form.cleaned_data["liaison_group"],
                title=post_form.cleaned_data["title"],
                start_date=post_form.cleaned_data["start_date"],
            )
        except ValidationError as exc:
            add_refusal(post_form, exc)
        else:
            if not user_form.cleaned_data["password"]:
                messages.warning(
                    request,
                    _("Account %(u)s created. Initial password: %(p)s — give it to them in person.")
                    % {"u": person.username, "p": password},
                )
            else:
                messages.success(request, _("Account %(u)s created.") % {"u": person.username})
            return redirect("network:user-detail", pk=person.pk)
    return render(
        request,
        "network/user_create.html",
        {"user_form": user_form, "post_form": post_form},
    )


@scoped_view("network.change_user")
@require_http_methods(["GET", "POST"])
def user_update(request, pk):
    person = get_object_or_404(users_manageable_by(request.user), pk=pk)
    form = UserUpdateForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Account %(u)s saved.") % {"u": person.username})
        return redirect("network:user-detail", pk=person.pk)
    return render(
        request, "network/form.html", {"form": form, "title": _("Edit account"), "object": person}
    )


@scoped_view("network.add_post")
@require_http_methods(["GET", "POST"])
def post_create(request, user_pk):
    person = get_object_or_404(users_visible_to(request.user), pk=user_pk)
    form = PostForm(request.POST or None, manager=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            operations.post_grant(
                by=request.user,
                user=person,
                role=form.cleaned_data["role"],
                area=form.cleaned_data["area"],
                liaison_group=form.cleaned_data["liaison_group"],
                title=form.cleaned_data["title"],
                start_date=form.cleaned_data["start_date"],
            )
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("Post added."))
            return redirect("network:user-detail", pk=person.pk)
    return render(
        request,
        "network/form.html",
        {"form": form, "title": _("New post for %(name)s") % {"name": person.display_name}},
    )


@scoped_view("network.change_post")
@require_http_methods(["GET", "POST"])
def post_end(request, pk):
    post = get_object_or_404(
        posts_manageable_by(request.user).select_related("user", "area"), pk=pk
    )
    form = PostEndForm(request.POST or None, post=post)
    if request.method == "POST" and form.is_valid():
        try:
            operations.post_end(by=request.user, post=post, end_date=form.cleaned_data["end_date"])
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("Post ended; its access ends with it."))
            return redirect("network:user-detail", pk=post.user_id)
    return render(
        request,
        "network/form.html",
        {"form": form, "title": _("End post: %(post)s") % {"post": post}},
    )


@scoped_view("network.import_users")
@require_http_methods(["GET", "POST"])
def user_import(request):
    form = TableUploadForm(request.POST or None, request.FILES or None)
    result = errors = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = read_table(upload.read(), upload.name, operations.USER_COLUMNS, 5_000)
            result = operations.users_import(by=request.user, rows=rows)
        except TableError as exc:
            errors = [str(exc)]
        except operations.ImportRefused as exc:
            errors = exc.errors
        if errors:
            messages.error(request, _("Nothing was imported: fix the rows below and upload again."))
        else:
            messages.success(
                request,
                _("Imported: %(c)d new accounts, %(u)d updated, %(s)d posts already present.")
                % {"c": result.created, "u": result.updated, "s": result.unchanged},
            )
    return render(
        request,
        "network/user_import.html",
        {"form": form, "result": result, "errors": errors, "columns": operations.USER_COLUMNS},
    )


# ---------------------------------------------------------------- the export log


class ExportLogFilterForm(DateRangeForm):
    who = forms.CharField(label=gettext_lazy("Who"), required=False, max_length=50)
    field_order = ["who", "date_from", "date_to"]


@scoped_view("network.view_exportlog")
def export_log(request):
    """Every export of personal data in the user's area: who, when, what, which filter,
    how many rows. For district bureau staff."""
    form = ExportLogFilterForm(request.GET or None)
    entries = ExportLog.objects.visible_to(request.user).select_related("user", "area")
    if form.is_bound and form.is_valid():
        who = form.cleaned_data["who"].strip()
        if who:
            entries = entries.filter(
                Q(user__username__icontains=who) | Q(user__real_name__icontains=who)
            )
        entries = form.in_dates(entries)
    page = Paginator(entries.order_by("-at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(request, "network/export_log.html", {"form": form, "page": page})
