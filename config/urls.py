from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from network import signin, two_factor
from network import views as network_views
from network.scoped import login_only_view, public_view

urlpatterns = [
    path("", network_views.home, name="home"),
    path("healthz", network_views.healthz, name="healthz"),
    path("login/", signin.sign_in, name="login"),
    path("login/code/", signin.sign_in_code, name="login-code"),
    path("logout/", public_view(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "password/",
        login_only_view(signin.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "password/done/",
        login_only_view(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path("two-factor/", two_factor.two_factor, name="two_factor"),
    path("two-factor/setup/", two_factor.two_factor_setup, name="two_factor_setup"),
    path("two-factor/remove/", two_factor.two_factor_remove, name="two_factor_remove"),
    path("i18n/setlang/", public_view(set_language), name="set_language"),
    path("network/", include("network.urls")),
    path("register/", include("residents.urls")),
    path("outreach/", include("outreach.urls")),
    path("services/", include("services.urls")),
    path("reports/", include("reports.urls")),
    # The admin signs in through Tongxin's sign-in page (lock-out, two-factor code).
    path("admin/login/", signin.admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
]
