import io

from django.core.management import call_command

from network.models import Area, LiaisonGroup, Post, User


def seed(seed=7):
    out = io.StringIO()
    call_command("seed_demo", "--seed", str(seed), stdout=out)
    return out.getvalue()


def test_seed_demo_builds_a_district_and_prints_logins(db):
    output = seed()
    assert "quminzongju" in output and "Tongxin-2026" in output
    assert Area.objects.get(code="320508000000").name == "姑苏区"
    assert Area.objects.filter(level="community").count() == 14
    assert LiaisonGroup.objects.count() == 14
    roles = set(Post.objects.values_list("role", flat=True))
    assert roles == {"district", "subdistrict", "community", "liaison"}
    assert User.objects.get(username="daoqian_llz").check_password("Tongxin-2026")


def test_seed_demo_twice_keeps_existing_data(db):
    seed()
    User.objects.filter(username="daoqian").update(real_name="陈静怡")
    counts = (Area.objects.count(), User.objects.count(), Post.objects.count())
    seed()
    assert (Area.objects.count(), User.objects.count(), Post.objects.count()) == counts
    assert User.objects.get(username="daoqian").real_name == "陈静怡"


class _Rollback(Exception):
    pass


def test_seed_demo_is_deterministic_for_a_seed(db):
    from django.db import transaction

    def snapshot():
        return (
            sorted(User.objects.values_list("username", "mobile")),
            sorted(Area.objects.values_list("name", "populations__registered"), key=str),
        )

    try:
        with transaction.atomic():
            seed(11)
            first = snapshot()
            raise _Rollback
    except _Rollback:
        pass
    assert not Area.objects.exists()
    seed(11)
    assert snapshot() == first
    assert first[0] and first[1]
