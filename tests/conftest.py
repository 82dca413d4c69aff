"""One district with two sub-districts and a user of every role (like healthchecks'
alice/bob/charlie), so each denial test is one line."""

import datetime
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.utils import timezone

from network.models import Area, AreaLevel, LiaisonGroup, Role, User
from tests.factories import LiaisonGroupFactory, UserFactory, make_user_with_post


@dataclass
class World:
    district: Area
    pingjiang: Area  # sub-district A
    north_zone: Area  # zone in A
    pingjianglu: Area  # community in the zone of A
    ganjiang: Area  # community directly under A
    canglang: Area  # sub-district B
    daoqian: Area  # community in B
    pingjianglu_group: LiaisonGroup
    ganjiang_group: LiaisonGroup
    daoqian_group: LiaisonGroup
    bureau: User
    pingjiang_staff: User
    canglang_staff: User
    pingjianglu_staff: User
    pingjianglu_liaison: User
    daoqian_liaison: User
    no_post: User
    ended_post: User
    future_post: User
    superuser: User

    def all_role_users(self):
        return [
            self.bureau,
            self.pingjiang_staff,
            self.canglang_staff,
            self.pingjianglu_staff,
            self.pingjianglu_liaison,
            self.daoqian_liaison,
        ]


def build_world() -> World:
    district = Area.objects.create(code="320508000000", name="姑苏区", level=AreaLevel.DISTRICT)
    pingjiang = Area.objects.create(
        code="320508001000", name="平江街道", level=AreaLevel.SUBDISTRICT, parent=district
    )
    north = Area.objects.create(name="北片", level=AreaLevel.ZONE, parent=pingjiang)
    pingjianglu = Area.objects.create(
        code="320508001001", name="平江路社区", level=AreaLevel.COMMUNITY, parent=north
    )
    ganjiang = Area.objects.create(
        code="320508001002", name="干将社区", level=AreaLevel.COMMUNITY, parent=pingjiang
    )
    canglang = Area.objects.create(
        code="320508002000", name="沧浪街道", level=AreaLevel.SUBDISTRICT, parent=district
    )
    daoqian = Area.objects.create(
        code="320508002001", name="道前社区", level=AreaLevel.COMMUNITY, parent=canglang
    )
    g_pjl = LiaisonGroupFactory(community=pingjianglu)
    g_gj = LiaisonGroupFactory(community=ganjiang)
    g_dq = LiaisonGroupFactory(community=daoqian)
    today = timezone.localdate()
    return World(
        district=district,
        pingjiang=pingjiang,
        north_zone=north,
        pingjianglu=pingjianglu,
        ganjiang=ganjiang,
        canglang=canglang,
        daoqian=daoqian,
        pingjianglu_group=g_pjl,
        ganjiang_group=g_gj,
        daoqian_group=g_dq,
        bureau=make_user_with_post("quminzongju", "王建国", Role.DISTRICT, district),
        pingjiang_staff=make_user_with_post("pingjiang", "李秀英", Role.SUBDISTRICT, pingjiang),
        canglang_staff=make_user_with_post("canglang", "马玉兰", Role.SUBDISTRICT, canglang),
        pingjianglu_staff=make_user_with_post("pingjianglu", "周晓红", Role.COMMUNITY, pingjianglu),
        pingjianglu_liaison=make_user_with_post(
            "pingjianglu_llz", "白梅", Role.LIAISON, pingjianglu, g_pjl
        ),
        daoqian_liaison=make_user_with_post("daoqian_llz", "马建华", Role.LIAISON, daoqian, g_dq),
        no_post=UserFactory(username="wugangwei", real_name="吴岗位"),
        ended_post=make_user_with_post(
            "lizhi",
            "金离职",
            Role.SUBDISTRICT,
            pingjiang,
            start_date=datetime.date(2020, 1, 1),
            end_date=today - datetime.timedelta(days=1),
        ),
        future_post=make_user_with_post(
            "xinren",
            "丁新任",
            Role.SUBDISTRICT,
            pingjiang,
            start_date=today + datetime.timedelta(days=1),
        ),
        superuser=User.objects.create_superuser(
            "root", password="Tongxin-2026", real_name="管理员"
        ),
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def login(client):
    """``login(user)`` signs the test client in and returns it."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


def pytest_collection_modifyitems(items):
    """A test using ``module_db`` runs in the test database too: pytest-django makes only the
    databases some test asks for with ``db`` (or the mark), and without one the module-wide
    transaction would write to the real database of the settings."""
    for item in items:
        if "module_db" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.django_db)


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """One transaction around a whole test module, rolled back after its last test: a
    module-scoped fixture may build data once (a seeded demo district takes seconds) and each
    test, asking for ``db`` as well, runs in a savepoint inside it. Tests of such a module
    that need an empty database belong in another module."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


# ---------------------------------------------------------------- PostgreSQL housekeeping

VACUUM_EVERY = 300  # tests
_tests_run = 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Every few hundred tests on PostgreSQL, VACUUM ANALYZE the test database. Each test's
    rolled-back rows stay behind as dead tuples while the statistics still say the tables are
    empty; when autovacuum falls behind (a busy machine), the planner then nests loops over
    thousands of dead rows and one query of a test can take minutes."""
    yield
    global _tests_run
    _tests_run += 1
    if _tests_run % VACUUM_EVERY:
        return
    from django.db import connections

    connection = connections["default"]
    if connection.vendor != "postgresql" or not connection.settings_dict["NAME"].startswith(
        "test_"
    ):
        return
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        raw.close()
