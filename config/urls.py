from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from network import views as network_views
from network.scoped import login_only_view, public_view

urlpatterns = [
    path("", network_views.home, name="home"),
    path("healthz", network_views.healthz, name="healthz"),
    path(
        "login/",
        public_view(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", public_view(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "password/",
        login_only_view(auth_views.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "password/done/",
        login_only_view(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path("i18n/setlang/", public_view(set_language), name="set_language"),
    path("network/", include("network.urls")),
    path("register/", include("residents.urls")),
    path("outreach/", include("outreach.urls")),
    path("services/", include("services.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
]
