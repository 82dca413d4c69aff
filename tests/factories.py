"""Factories with realistic Chinese data."""

import datetime

import factory

from network.models import Area, AreaLevel, LiaisonGroup, Post, Role, User

SURNAMES = ["马", "白", "李", "王", "张", "哈", "丁", "金", "穆", "沙"]
GIVEN = ["建华", "玉兰", "秀英", "海燕", "志强", "晓红", "德明", "桂芳", "永祥", "丽娜"]


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    level = AreaLevel.COMMUNITY
    name = factory.Sequence(lambda n: f"测试{n}社区")


class LiaisonGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LiaisonGroup

    name = factory.LazyAttribute(lambda o: f"{o.community.name}少数民族联络组")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    real_name = factory.Sequence(lambda n: SURNAMES[n % 10] + GIVEN[(n // 10) % 10])
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    password = factory.django.Password("Tongxin-2026")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    user = factory.SubFactory(UserFactory)
    role = Role.COMMUNITY
    start_date = datetime.date(2024, 1, 1)


def make_user_with_post(username, real_name, role, area, group=None, **post_kwargs):
    user = UserFactory(username=username, real_name=real_name)
    PostFactory(user=user, role=role, area=area, liaison_group=group, **post_kwargs)
    return user


# ---------------------------------------------------------------- residents


def _ethnicity(code):
    from residents.models import Ethnicity

    return Ethnicity.objects.get(code=code)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "residents.Household"

    address = factory.Sequence(lambda n: f"平江路{n + 1}号{(n % 6) + 1}0{(n % 3) + 1}室")
    phone = factory.Sequence(lambda n: f"0512-6{n:07d}")


class PersonFactory(factory.django.DjangoModelFactory):
    """A Hui resident by default; pass ``ethnicity=_ethnicity("05")`` for Uyghur etc."""

    class Meta:
        model = "residents.Person"

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: SURNAMES[n % 10] + GIVEN[(n // 10) % 10])
    sex = "M"
    ethnicity = factory.LazyFunction(lambda: _ethnicity("03"))
    birth_date = datetime.date(1984, 7, 14)


def valid_id_number(region="320508", birth="19840714", sequence="123"):
    from residents.id_numbers import check_digit

    first17 = f"{region}{birth}{sequence}"
    return first17 + check_digit(first17)
