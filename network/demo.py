"""The demo district: 苏州市姑苏区 with three sub-districts, zones, communities, liaison groups
and one account for each role. Deterministic for a seed; never touches an existing district."""

import random

from django.db import transaction

from network.models import Area, AreaLevel, AreaPopulation, LiaisonGroup, Post, Role, User

DISTRICT = ("320508000000", "姑苏区")
SUBDISTRICTS = {
    "320508001000": (
        "平江街道",
        {
            "北片": ["平江路社区", "钮家巷社区", "菉葭巷社区"],
            "南片": ["干将社区", "胡厢使社区", "大儒社区"],
        },
    ),
    "320508002000": ("沧浪街道", {None: ["道前社区", "府前社区", "南环新村社区", "三元社区"]}),
    "320508003000": ("双塔街道", {None: ["定慧寺社区", "双塔社区", "官太尉社区", "竹辉社区"]}),
}
DEMO_PASSWORD = "Tongxin-2026"
# username, real name, role, area code or community name, liaison group?
ACCOUNTS = [
    ("quminzongju", "王建国", Role.DISTRICT, "320508000000", False),
    ("pingjiang", "李秀英", Role.SUBDISTRICT, "320508001000", False),
    ("canglang", "马玉兰", Role.SUBDISTRICT, "320508002000", False),
    ("shuangta", "张伟", Role.SUBDISTRICT, "320508003000", False),
    ("daoqian", "陈静", Role.COMMUNITY, "道前社区", False),
    ("pingjianglu", "周晓红", Role.COMMUNITY, "平江路社区", False),
    ("daoqian_llz", "马建华", Role.LIAISON, "道前社区", True),
    ("pingjianglu_llz", "白梅", Role.LIAISON, "平江路社区", True),
]


def build(*, seed: int, stdout, **_options) -> list[tuple[str, str, str, str]]:
    """Create the demo district unless it exists; return the logins to print."""
    rng = random.Random(seed)
    if Area.objects.filter(code=DISTRICT[0]).exists():
        stdout.write("The demo district already exists; keeping its data.")
        return _logins()
    with transaction.atomic():
        district = Area.objects.create(code=DISTRICT[0], name=DISTRICT[1], level=AreaLevel.DISTRICT)
        communities = {}
        for sub_code, (sub_name, zones) in SUBDISTRICTS.items():
            sub = Area.objects.create(
                code=sub_code, name=sub_name, level=AreaLevel.SUBDISTRICT, parent=district
            )
            number = 1
            for zone_name, names in zones.items():
                parent = sub
                if zone_name:
                    parent = Area.objects.create(name=zone_name, level=AreaLevel.ZONE, parent=sub)
                for name in names:
                    community = Area.objects.create(
                        code=f"{sub_code[:9]}{number:03d}",
                        name=name,
                        level=AreaLevel.COMMUNITY,
                        parent=parent,
                    )
                    communities[name] = community
                    number += 1
                    LiaisonGroup.objects.create(
                        community=community,
                        name=f"{name}少数民族联络组",
                        established_on=f"20{rng.randint(15, 23)}-0{rng.randint(1, 9)}-01",
                    )
        for community in communities.values():
            for year in (2024, 2025):
                AreaPopulation.objects.create(
                    area=community,
                    year=year,
                    registered=rng.randint(6000, 15000),
                    floating=rng.randint(800, 4000),
                    source="demo",
                )
        for username, real_name, role, where, in_group in ACCOUNTS:
            area = communities[where] if where in communities else Area.objects.get(code=where)
            user = User(
                username=username,
                real_name=real_name,
                mobile=f"13{rng.randint(100000000, 999999999)}",
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            group = area.liaison_groups.first() if in_group else None
            Post.objects.create(
                user=user,
                role=role,
                area=area,
                liaison_group=group,
                start_date="2024-01-01",
                title="联络组组长" if in_group else "",
            )
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", password=DEMO_PASSWORD, real_name="系统管理员")
    return _logins()


def _logins():
    names = {DISTRICT[0]: DISTRICT[1], **{code: sub[0] for code, sub in SUBDISTRICTS.items()}}
    rows = [("admin", DEMO_PASSWORD, "superuser", DISTRICT[1])]
    for username, _name, role, where, _g in ACCOUNTS:
        rows.append((username, DEMO_PASSWORD, str(Role(role).label), names.get(where, where)))
    return rows
