"""Walk every URL pattern of the project: each view must declare how it is reached, and
every non-public view must turn away a signed-out visitor and a user with no current post.
New views of later issues are covered without writing anything here."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from network.scoped import ACCOUNT, LOGIN, PUBLIC, SCOPED

PUBLIC_URL_NAMES = {
    "login",
    "login-code",  # the two-factor code after the password
    "admin-login",  # sends the admin's sign-in to the one above
    "logout",
    "healthz",
    "set_language",
    "card-verify",
}
DUMMY_VALUES = {
    "int": 987654,
    "str": "x",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "x",
}


def walk(resolver=None, namespace=None):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield namespace, pattern


def access_of(callback):
    declared = getattr(callback, "tongxin_access", None)
    view_class = getattr(callback, "view_class", None)
    if declared is None and view_class is not None:
        declared = getattr(view_class, "tongxin_access", None)
    return declared


def own_patterns():
    for namespace, pattern in walk():
        if namespace == "admin":
            continue  # guarded by TongxinAdminSite.has_permission, tested below
        yield namespace, pattern


def url_for(namespace, pattern):
    name = f"{namespace}:{pattern.name}" if namespace else pattern.name
    converters = getattr(pattern.pattern, "converters", {})
    kwargs = {}
    for key, converter in converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        kwargs[key] = DUMMY_VALUES.get(kind, "x")
    return reverse(name, kwargs=kwargs)


def test_every_url_declares_its_access():
    undeclared = [
        str(p.pattern)
        for _ns, p in own_patterns()
        if access_of(p.callback) not in {PUBLIC, LOGIN, SCOPED, ACCOUNT}
    ]
    assert undeclared == [], f"views without an access declaration: {undeclared}"


def test_every_url_has_a_name():
    assert [str(p.pattern) for _ns, p in own_patterns() if not p.name] == []


def test_only_the_short_list_is_public():
    public = {p.name for _ns, p in own_patterns() if access_of(p.callback) == PUBLIC}
    assert public == PUBLIC_URL_NAMES


def protected():
    return [
        pytest.param(ns, p, id=f"{ns}:{p.name}" if ns else p.name)
        for ns, p in own_patterns()
        if access_of(p.callback) in {LOGIN, SCOPED, ACCOUNT}
    ]


def scoped(kinds=(SCOPED,)):
    return [
        pytest.param(ns, p, id=f"{ns}:{p.name}" if ns else p.name)
        for ns, p in own_patterns()
        if access_of(p.callback) in kinds
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("namespace", "pattern"), protected())
def test_signed_out_visitor_is_sent_to_login(client, namespace, pattern):
    url = url_for(namespace, pattern)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize(("namespace", "pattern"), scoped((SCOPED, ACCOUNT)))
@pytest.mark.parametrize("who", ["no_post", "ended_post", "future_post"])
def test_user_without_current_post_is_refused(world, login, namespace, pattern, who):
    client = login(getattr(world, who))
    url = url_for(namespace, pattern)
    assert client.get(url).status_code in {403, 404}, url
    assert client.post(url, {}).status_code in {403, 404, 405}, url


def test_there_are_scoped_views_to_walk():
    assert len(scoped()) >= 10


@pytest.mark.parametrize("who", ["pingjiang_staff", "pingjianglu_liaison", "no_post"])
def test_admin_refuses_everyone_but_bureau_and_superusers(world, login, who):
    client = login(getattr(world, who))
    for url in ["/admin/", "/admin/network/area/", "/admin/network/user/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("who", ["bureau", "superuser"])
def test_admin_opens_for_bureau_and_superusers(world, login, who):
    client = login(getattr(world, who))
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/network/area/").status_code == 200
    change_page = client.get(f"/admin/network/user/{world.pingjianglu_liaison.pk}/change/")
    assert change_page.status_code == 200
    assert "user_permissions" not in change_page.content.decode()
