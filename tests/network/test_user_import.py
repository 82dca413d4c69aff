"""District bureau staff upload many accounts and posts at once; all rows or none."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from network.models import Post, Role, User

HEADER = ["用户名", "姓名", "手机", "角色", "区划代码", "联络组", "开始日期", "初始密码"]


def xlsx(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    import io

    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("联络员名单.xlsx", buffer.getvalue())


GOOD_ROWS = [
    [
        "mayuzhen",
        "马玉珍",
        "13600001111",
        "联络员",
        "320508002001",
        "道前社区少数民族联络组",
        "2026-03-01",
        "",
    ],
    [
        "baihaiyan",
        "白海燕",
        "",
        "社区工作人员",
        "３２０５０８００１００２",
        "",
        "",
        "Haiyan@Gusu2026",
    ],
    ["pingjianglu_llz", "白梅", "", "联络员", "320508001002", "干将社区少数民族联络组", "", ""],
]


def test_bureau_uploads_accounts_and_posts(world, login):
    client = login(world.bureau)
    response = client.post(reverse("network:user-import"), {"file": xlsx(GOOD_ROWS)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "mayuzhen" in page  # its generated initial password is listed once
    ma = User.objects.get(username="mayuzhen")
    post = ma.posts.get()
    assert (post.role, post.area, post.liaison_group, str(post.start_date)) == (
        Role.LIAISON,
        world.daoqian,
        world.daoqian_group,
        "2026-03-01",
    )
    assert User.objects.get(username="baihaiyan").check_password("Haiyan@Gusu2026")
    # an existing account gets a second post, keeping the first
    assert set(world.pingjianglu_liaison.posts.values_list("area__name", flat=True)) == {
        "平江路社区",
        "干将社区",
    }


def test_one_bad_row_imports_nothing_and_names_the_row(world, login):
    before_users, before_posts = User.objects.count(), Post.objects.count()
    rows = [*GOOD_ROWS, ["hajun", "哈军", "12345", "组长", "320599001001", "", "2026-13-01", ""]]
    response = login(world.bureau).post(reverse("network:user-import"), {"file": xlsx(rows)})
    page = response.content.decode()
    assert response.status_code == 200
    assert ("Row 5" in page) or ("第 5 行" in page)
    assert (User.objects.count(), Post.objects.count()) == (before_users, before_posts)


def test_duplicate_username_in_file_is_refused(world, login):
    rows = [GOOD_ROWS[0], GOOD_ROWS[0]]
    login(world.bureau).post(reverse("network:user-import"), {"file": xlsx(rows)})
    assert not User.objects.filter(username="mayuzhen").exists()


def test_subdistrict_staff_cannot_upload(world, login):
    response = login(world.pingjiang_staff).post(
        reverse("network:user-import"), {"file": xlsx(GOOD_ROWS)}
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="mayuzhen").exists()


def test_garbage_file_gets_a_message_not_an_error_page(world, login):
    response = login(world.bureau).post(
        reverse("network:user-import"),
        {"file": SimpleUploadedFile("名单.xlsx", b"this is not a workbook")},
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="mayuzhen").exists()


def test_csv_upload_works_too(world, login):
    text = ",".join(HEADER) + "\nmalan,马兰,,街道工作人员,320508002000,,,\n"
    response = login(world.bureau).post(
        reverse("network:user-import"),
        {"file": SimpleUploadedFile("名单.csv", text.encode("gb18030"))},
    )
    assert response.status_code == 200
    assert User.objects.get(username="malan").posts.get().area == world.canglang
