"""The scanned agreement: PDF, JPEG or PNG by its content (not only its name), at most
10 MB, and sent only through the scoped view, never from a /media/ address."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from services.forms_merchants import MAX_DOCUMENT_BYTES
from tests.services.test_merchants_agreements import edit_data, stored_items

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "JPEG")
    return out.getvalue()


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "GIF")
    return out.getvalue()


def upload(client, agreement, name, data):
    url = reverse("services:agreement-edit", args=[agreement.pk])
    form = edit_data(agreement, stored_items(agreement))
    form["document"] = SimpleUploadedFile(name, data)
    return client.post(url, form)


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("协议扫描件.pdf", PDF, "application/pdf"),
        ("scan.JPG", jpeg_bytes(), "image/jpeg"),
        ("scan.jpeg", jpeg_bytes(), "image/jpeg"),
        ("scan.png", png_bytes(), "image/png"),
    ],
)
def test_a_scan_is_kept_and_sent_only_through_the_scoped_view(
    world, partners, login, name, data, content_type
):
    agreement = partners.lamian_agreement
    client = login(world.pingjiang_staff)
    assert upload(client, agreement, name, data).status_code == 302
    agreement.refresh_from_db()
    assert agreement.document.name.startswith("agreements/")
    url = reverse("services:agreement-document", args=[agreement.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == data
    page = client.get(reverse("services:agreement-detail", args=[agreement.pk])).content.decode()
    assert url in page and "/media/" not in page
    edit_page = client.get(reverse("services:agreement-edit", args=[agreement.pk]))
    assert "/media/" not in edit_page.content.decode()
    # out of scope: 404; no post (a till login too): 403
    assert login(world.canglang_staff).get(url).status_code == 404
    assert login(world.daoqian_liaison).get(url).status_code == 404
    assert login(partners.lamian_till).get(url).status_code == 403
    assert login(world.bureau).get(url).status_code == 200


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("协议.pdf", b"MZ\x90\x00 this is a program, not a PDF"),
        ("协议.pdf", png_bytes()),  # a PNG named as a PDF
        ("协议.png", b"just some text"),
        ("协议.gif", gif_bytes()),
        ("协议.exe", PDF),  # a PDF by its content, but named as a program
        ("协议", PDF),
        ("协议.pdf", b""),
    ],
)
def test_anything_but_a_pdf_jpeg_or_png_is_refused(world, partners, login, name, data):
    agreement = partners.lamian_agreement
    response = upload(login(world.pingjiang_staff), agreement, name, data)
    assert response.status_code == 200
    assert "document" in response.context["form"].errors
    agreement.refresh_from_db()
    assert not agreement.document


def test_a_scan_larger_than_10_mb_is_refused(world, partners, login):
    agreement = partners.lamian_agreement
    data = PDF + b"0" * MAX_DOCUMENT_BYTES
    response = upload(login(world.pingjiang_staff), agreement, "大文件.pdf", data)
    assert "document" in response.context["form"].errors
    agreement.refresh_from_db()
    assert not agreement.document


def test_no_scan_is_404(world, partners, login):
    url = reverse("services:agreement-document", args=[partners.lamian_agreement.pk])
    assert login(world.pingjiang_staff).get(url).status_code == 404


def test_a_scan_uploaded_with_a_new_agreement(world, partners, login):
    from tests.services.test_merchants_agreements import CREATE, NOODLES, agreement_data

    data = agreement_data(world, partners, NOODLES)
    data["document"] = SimpleUploadedFile("扫描件.pdf", PDF)
    client = login(world.pingjiang_staff)
    response = client.post(CREATE, data)
    assert response.status_code == 302
    detail = client.get(response["Location"])
    agreement = detail.context["agreement"]
    assert agreement.document.name.endswith(".pdf")
    document = client.get(reverse("services:agreement-document", args=[agreement.pk]))
    assert b"".join(document.streaming_content) == PDF


def test_a_kept_scan_can_be_removed(world, partners, login):
    agreement = partners.lamian_agreement
    client = login(world.pingjiang_staff)
    upload(client, agreement, "scan.pdf", PDF)
    agreement.refresh_from_db()
    assert agreement.document
    form = edit_data(agreement, stored_items(agreement), remove_document="on")
    url = reverse("services:agreement-edit", args=[agreement.pk])
    assert client.post(url, form).status_code == 302
    agreement.refresh_from_db()
    assert not agreement.document
