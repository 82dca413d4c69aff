"""Outreach fixtures: the register's households (``register``) and liaison records."""

from dataclasses import dataclass

import pytest

from outreach.models import GroupMembership, GroupPosition, Liaison
from tests.residents.conftest import register  # noqa: F401  (the register fixture)


@dataclass
class Liaisons:
    bai_mei: Liaison  # 平江路社区, has a login (world.pingjianglu_liaison), group leader
    ma_xiaodong: Liaison  # 平江路社区, a resident without a login (register.ma_xiaodong)
    ma_jianhua: Liaison  # 道前社区 (other sub-district), login world.daoqian_liaison


@pytest.fixture
def liaisons(world, register) -> Liaisons:  # noqa: F811
    bai = Liaison.objects.create(
        community=world.pingjianglu,
        name="白梅",
        user=world.pingjianglu_liaison,
        mobile="13912345678",
    )
    ma = Liaison.objects.create(
        community=world.pingjianglu, name="马晓东", person=register.ma_xiaodong
    )
    mjh = Liaison.objects.create(community=world.daoqian, name="马建华", user=world.daoqian_liaison)
    GroupMembership.objects.create(
        liaison=bai, group=world.pingjianglu_group, position=GroupPosition.LEADER
    )
    GroupMembership.objects.create(liaison=ma, group=world.pingjianglu_group)
    GroupMembership.objects.create(liaison=mjh, group=world.daoqian_group)
    return Liaisons(bai_mei=bai, ma_xiaodong=ma, ma_jianhua=mjh)
