"""Writes that touch several rows: area lists, accounts and posts.

Each is atomic: a file with one bad row changes nothing, and the errors name the rows.
"""

import datetime
import secrets
from dataclasses import dataclass, field

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from network.access import can_change_area, forget_scope, roles_grantable_by
from network.division_codes import check_division_code, level_for_code, normalise_code
from network.models import (
    ROLE_AREA_LEVEL,
    Area,
    AreaLevel,
    LiaisonGroup,
    Post,
    Role,
    User,
    mobile_validator,
)
from network.tabular import Row, parse_cell_date


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportRefused(Exception):
    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = errors


LEVEL_WORDS = {
    "区": AreaLevel.DISTRICT,
    "县": AreaLevel.DISTRICT,
    "区县": AreaLevel.DISTRICT,
    "县级": AreaLevel.DISTRICT,
    "district": AreaLevel.DISTRICT,
    "街道": AreaLevel.SUBDISTRICT,
    "镇": AreaLevel.SUBDISTRICT,
    "乡": AreaLevel.SUBDISTRICT,
    "乡级": AreaLevel.SUBDISTRICT,
    "subdistrict": AreaLevel.SUBDISTRICT,
    "社区": AreaLevel.COMMUNITY,
    "居委会": AreaLevel.COMMUNITY,
    "村": AreaLevel.COMMUNITY,
    "村级": AreaLevel.COMMUNITY,
    "community": AreaLevel.COMMUNITY,
}
LEVEL_ORDER = [AreaLevel.DISTRICT, AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY]


def areas_import(*, rows: list[Row]) -> ImportResult:
    """Load an official division list (columns 代码, 名称, optional 级别, 上级代码).

    Re-running updates names without duplicating; a community already placed in a zone stays
    there. Any bad row refuses the whole file (ImportRefused lists every bad row).
    """
    errors: list[str] = []
    planned: dict[str, dict] = {}
    for row in rows:
        code = normalise_code(row.get("代码"))
        name = row.get("名称")
        where = _("Row %(n)d") % {"n": row.number}
        if not name:
            errors.append(_("%(where)s: the name (名称) is empty.") % {"where": where})
        if not code:
            errors.append(_("%(where)s: the code (代码) is empty.") % {"where": where})
            continue
        level = level_for_code(code)
        word = row.get("级别")
        if word:
            stated = LEVEL_WORDS.get(word.lower())
            if stated is None:
                errors.append(
                    _("%(where)s: unknown level %(word)s (use 区, 街道, 镇, 乡, 社区 or 村).")
                    % {"where": where, "word": word}
                )
                continue
            level = level or stated
            if level_for_code(code) and stated != level_for_code(code):
                errors.append(
                    _("%(where)s: level %(word)s does not match code %(code)s.")
                    % {"where": where, "word": word, "code": code}
                )
                continue
        if level is None:
            errors.append(
                _("%(where)s: %(code)s is not a 12-digit division code.")
                % {"where": where, "code": code}
            )
            continue
        if code in planned:
            errors.append(
                _("%(where)s: code %(code)s appears twice in the file (also row %(other)d).")
                % {"where": where, "code": code, "other": planned[code]["row"]}
            )
            continue
        parent_code = normalise_code(row.get("上级代码")) or None
        if parent_code is None and level != AreaLevel.DISTRICT:
            parent_code = (
                code[:6] + "000000" if level == AreaLevel.SUBDISTRICT else code[:9] + "000"
            )
        problem = check_division_code(code, level, parent_code)
        if problem:
            errors.append(f"{where}: {problem}")
            continue
        planned[code] = {"row": row.number, "name": name, "level": level, "parent": parent_code}

    existing = {a.code: a for a in Area.objects.filter(code__isnull=False).select_related("parent")}
    for plan in planned.values():
        if plan["level"] == AreaLevel.DISTRICT or not plan["parent"]:
            continue
        if plan["parent"] not in planned and plan["parent"] not in existing:
            errors.append(
                _("Row %(n)d: the parent area %(parent)s is neither in the file nor in Tongxin.")
                % {"n": plan["row"], "parent": plan["parent"]}
            )
    seen_names: dict[tuple, int] = {}
    for plan in planned.values():
        key = (plan["parent"], plan["name"])
        if key in seen_names:
            errors.append(
                _("Row %(n)d: two areas named %(name)s under the same parent (row %(other)d).")
                % {"n": plan["row"], "name": plan["name"], "other": seen_names[key]}
            )
        seen_names[key] = plan["row"]
    if errors:
        raise ImportRefused(errors)

    result = ImportResult()
    try:
        with transaction.atomic():
            for level in LEVEL_ORDER:
                for code, plan in planned.items():
                    if plan["level"] != level:
                        continue
                    _save_planned_area(code, plan, existing, result)
    except ValidationError as exc:
        raise ImportRefused(exc.messages) from exc
    except IntegrityError as exc:  # a name clash with an area not in the file
        raise ImportRefused(
            [_("An area with the same name already exists there: %s") % exc]
        ) from exc
    return result


def _save_planned_area(code, plan, existing, result):
    parent = existing.get(plan["parent"]) if plan["parent"] else None
    area = existing.get(code)
    if area is None:
        area = Area(code=code, name=plan["name"], level=plan["level"], parent=parent)
        area.full_clean()
        area.save()
        existing[code] = area
        result.created += 1
        return
    changed = False
    if area.name != plan["name"]:
        area.name = plan["name"]
        changed = True
    current_official_parent = area.official_parent_code()
    if parent is not None and current_official_parent != parent.code:
        area.parent = parent
        changed = True
    if changed:
        area.full_clean()
        area.save()
        result.updated += 1
    else:
        result.unchanged += 1


# ---------------------------------------------------------------- accounts and posts

ROLE_WORDS = {
    "区民宗局工作人员": Role.DISTRICT,
    "区民宗局": Role.DISTRICT,
    "district": Role.DISTRICT,
    "街道工作人员": Role.SUBDISTRICT,
    "街道": Role.SUBDISTRICT,
    "subdistrict": Role.SUBDISTRICT,
    "社区工作人员": Role.COMMUNITY,
    "社区": Role.COMMUNITY,
    "community": Role.COMMUNITY,
    "联络员": Role.LIAISON,
    "liaison": Role.LIAISON,
}


def new_initial_password() -> str:
    """A random password that passes the validators; shown once to whoever created the
    account."""
    return "Tx-" + secrets.token_urlsafe(9)


def user_create_with_post(
    *,
    by,
    username,
    real_name,
    mobile,
    password,
    role,
    area,
    liaison_group=None,
    title="",
    start_date=None,
) -> tuple[User, Post]:
    with transaction.atomic():
        # Someone else chose the password: the new user chooses their own at first sign-in.
        user = User(
            username=username, real_name=real_name, mobile=mobile, must_change_password=True
        )
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        post = post_grant(
            by=by,
            user=user,
            role=role,
            area=area,
            liaison_group=liaison_group,
            title=title,
            start_date=start_date,
        )
    return user, post


def post_grant(*, by, user, role, area, liaison_group=None, title="", start_date=None) -> Post:
    """Give ``user`` a post; the granting user must be able to change the area and give
    the role."""
    if role not in roles_grantable_by(by):
        raise ValidationError({"role": _("You cannot give this role.")})
    if area is None and liaison_group is not None:
        area = liaison_group.community
    if area is None or not can_change_area(by, area):
        raise ValidationError({"area": _("This area is outside the areas you manage.")})
    post = Post(
        user=user,
        role=role,
        area=area,
        liaison_group=liaison_group,
        title=title,
        start_date=start_date or timezone.localdate(),
    )
    post.full_clean()
    post.save()
    forget_scope(user)
    return post


def post_end(*, by, post: Post, end_date: datetime.date | None = None) -> Post:
    """End a post (someone left); their access ends with it. The record stays."""
    if not can_change_area(by, post.area) or post.role not in roles_grantable_by(by):
        raise ValidationError(_("This post is outside the areas you manage."))
    end_date = end_date or timezone.localdate()
    if end_date < post.start_date:
        raise ValidationError(_("A post cannot end before it starts."))
    post.end_date = end_date
    post.save(update_fields=["end_date"])
    forget_scope(post.user)
    return post


USER_COLUMNS = ["用户名", "姓名", "角色", "区划代码"]


def users_import(*, by, rows: list[Row]) -> ImportResult:
    """Upload accounts and posts (columns 用户名, 姓名, 角色, 区划代码, optional 手机, 联络组,
    开始日期, 初始密码). A known username gets the new post; all rows or none."""
    errors: list[str] = []
    plans = []
    areas = {a.code: a for a in Area.objects.changeable_by(by).filter(code__isnull=False)}
    groups = {(g.community_id, g.name): g for g in LiaisonGroup.objects.changeable_by(by)}
    existing_users = {
        u.username: u for u in User.objects.filter(username__in=[r.get("用户名") for r in rows])
    }
    usernames_in_file: dict[str, int] = {}
    grantable = roles_grantable_by(by)
    for row in rows:
        where = _("Row %(n)d") % {"n": row.number}
        row_errors = []
        username = row.get("用户名")
        real_name = row.get("姓名")
        mobile = normalise_code(row.get("手机"))
        role = ROLE_WORDS.get(row.get("角色").lower())
        code = normalise_code(row.get("区划代码"))
        group_name = row.get("联络组")
        start_text = normalise_code(row.get("开始日期"))
        start = parse_cell_date(start_text) if start_text else timezone.localdate()
        if not username:
            row_errors.append(_("the username (用户名) is empty"))
        elif username in usernames_in_file:
            row_errors.append(
                _("username %(u)s appears twice (also row %(n)d)")
                % {"u": username, "n": usernames_in_file[username]}
            )
        else:
            usernames_in_file[username] = row.number
            try:
                User.username_validator(username)
            except ValidationError:
                row_errors.append(
                    _("username %(u)s may only hold letters, digits and @.+-_") % {"u": username}
                )
        if not real_name:
            row_errors.append(_("the name (姓名) is empty"))
        if mobile:
            try:
                mobile_validator(mobile)
            except ValidationError:
                row_errors.append(
                    _("mobile %(m)s is not an 11-digit mobile number") % {"m": mobile}
                )
        if role is None:
            row_errors.append(
                _("unknown role %(r)s (use 区民宗局工作人员, 街道工作人员, 社区工作人员 or 联络员)")
                % {"r": row.get("角色")}
            )
        elif role not in grantable:
            row_errors.append(_("you cannot give the role %(r)s") % {"r": Role(role).label})
        area = areas.get(code)
        if area is None:
            row_errors.append(_("area code %(c)s is not an area you manage") % {"c": code or "—"})
        elif role and area.level != ROLE_AREA_LEVEL[role]:
            row_errors.append(
                _("a %(role)s post is held at a %(level)s, but %(area)s is a %(actual)s")
                % {
                    "role": Role(role).label,
                    "level": AreaLevel(ROLE_AREA_LEVEL[role]).label,
                    "area": area.name,
                    "actual": area.get_level_display(),
                }
            )
        group = None
        if group_name and area is not None:
            group = groups.get((area.pk, group_name))
            if group is None:
                row_errors.append(
                    _("no liaison group %(g)s in %(area)s") % {"g": group_name, "area": area.name}
                )
            elif role != Role.LIAISON:
                row_errors.append(_("only a liaison post belongs to a liaison group"))
        if start is None:
            row_errors.append(
                _("start date %(d)s is not a date like 2025-03-01") % {"d": start_text}
            )
        password = row.get("初始密码")
        generated = False
        if username and username not in existing_users:
            if not password:
                password = new_initial_password()
                generated = True
            else:
                try:
                    validate_password(password, User(username=username, real_name=real_name))
                except ValidationError as exc:
                    row_errors.append(
                        _("the initial password is too weak: ") + " ".join(exc.messages)
                    )
        if row_errors:
            errors.append(f"{where}: " + "；".join(str(e) for e in row_errors))
            continue
        plans.append(
            dict(
                username=username,
                real_name=real_name,
                mobile=mobile,
                role=role,
                area=area,
                group=group,
                start=start,
                password=password,
                generated=generated,
            )
        )
    if errors:
        raise ImportRefused(errors)
    result = ImportResult()
    with transaction.atomic():
        for plan in plans:
            user = existing_users.get(plan["username"])
            if user is None:
                user = User(
                    username=plan["username"],
                    real_name=plan["real_name"],
                    mobile=plan["mobile"],
                    must_change_password=True,  # chosen by the uploader or generated
                )
                user.set_password(plan["password"])
                user.save()
                result.created += 1
                if plan["generated"]:
                    result.notes.append(
                        _("%(u)s: initial password %(p)s")
                        % {"u": user.username, "p": plan["password"]}
                    )
            else:
                changed = False
                for attr in ("real_name", "mobile"):
                    if plan[attr] and getattr(user, attr) != plan[attr]:
                        setattr(user, attr, plan[attr])
                        changed = True
                if changed:
                    user.save()
                    result.updated += 1
            duplicate = (
                Post.objects.current()
                .filter(
                    user=user, role=plan["role"], area=plan["area"], liaison_group=plan["group"]
                )
                .exists()
            )
            if duplicate:
                result.unchanged += 1
                continue
            Post.objects.create(
                user=user,
                role=plan["role"],
                area=plan["area"],
                liaison_group=plan["group"],
                start_date=plan["start"],
            )
    return result
