"""The network's people, mounted at /outreach/network/ (namespace "outreach"): liaisons with
their group memberships and zone posts, and the sub-districts' leadership and coordination
groups."""

from django.urls import path

from outreach import views_people as views

urlpatterns = [
    path("", views.liaison_list, name="liaison-list"),
    path("new/", views.liaison_create, name="liaison-create"),
    path("<int:pk>/", views.liaison_detail, name="liaison-detail"),
    path("<int:pk>/edit/", views.liaison_edit, name="liaison-edit"),
    path("<int:pk>/archive/", views.liaison_archive, name="liaison-archive"),
    path("<int:pk>/restore/", views.liaison_restore, name="liaison-restore"),
    path("<int:pk>/memberships/new/", views.membership_add, name="membership-add"),
    path("memberships/<int:pk>/end/", views.membership_end, name="membership-end"),
    path("<int:pk>/zone-posts/new/", views.zonepost_add, name="zonepost-add"),
    path("zone-posts/<int:pk>/end/", views.zonepost_end, name="zonepost-end"),
    path("groups/", views.workgroup_list, name="workgroup-list"),
    path("groups/new/", views.workgroup_create, name="workgroup-create"),
    path("groups/<int:pk>/", views.workgroup_detail, name="workgroup-detail"),
    path("groups/<int:pk>/edit/", views.workgroup_edit, name="workgroup-edit"),
    path("groups/<int:pk>/archive/", views.workgroup_archive, name="workgroup-archive"),
    path("groups/<int:pk>/restore/", views.workgroup_restore, name="workgroup-restore"),
    path("groups/<int:pk>/members/new/", views.workgroup_member_add, name="workgroup-member-add"),
    path("groups/members/<int:pk>/end/", views.workgroup_member_end, name="workgroup-member-end"),
]
