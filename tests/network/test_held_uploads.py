"""An uploaded file held between an import's preview and its confirmation."""

import os
import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import RequestFactory

from network.held_uploads import HeldUploads

HELD = HeldUploads(directory="ledger-imports", session_key="ledger_import_pending")
LEDGER = "户号,姓名,民族\nPJL-101,马建华,回族\n".encode()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


def request_of(user, session=None):
    request = RequestFactory().post("/")
    request.user = user
    request.session = session if session is not None else SessionStore()
    return request


def test_a_held_file_is_read_back_with_its_name_and_fingerprint(world, media):
    request = request_of(world.pingjiang_staff)
    token = HELD.stash(request, LEDGER, "平江路台账.CSV", "fp-1")
    held = HELD.pending(request, token)
    assert (held.filename, held.fingerprint) == ("平江路台账.CSV", "fp-1")
    assert HELD.read(held) == LEDGER
    # on disk in the held directory, named by the token only
    assert [p.name for p in (media / "ledger-imports").iterdir()] == [f"{token}.csv"]
    assert len(token) >= 32
    assert HELD.stash(request, LEDGER, "a.csv", "fp-1") != token


def test_the_session_record_survives_saving_the_session(world):
    session = SessionStore()
    token = HELD.stash(request_of(world.pingjiang_staff, session), LEDGER, "a.xlsx", "fp")
    session.save()
    later = request_of(world.pingjiang_staff, SessionStore(session_key=session.session_key))
    assert HELD.read(HELD.pending(later, token)) == LEDGER


def test_discard_deletes_the_file_and_spends_the_token(world, media):
    request = request_of(world.pingjiang_staff)
    token = HELD.stash(request, LEDGER, "a.csv", "fp")
    path = HELD.pending(request, token).path
    HELD.discard(request, token)
    assert not default_storage.exists(path)
    assert HELD.pending(request, token) is None
    assert request.session["ledger_import_pending"] == {}
    HELD.discard(request, token)  # twice, or a token never held: nothing happens
    HELD.discard(request, "forged")


def test_a_preview_expires_after_an_hour(world):
    request = request_of(world.pingjiang_staff)
    token = HELD.stash(request, LEDGER, "a.csv", "fp")
    entries = request.session["ledger_import_pending"]
    entries[token]["at"] = time.time() - 3590
    assert HELD.pending(request, token) is not None
    entries[token]["at"] = time.time() - 3610
    assert HELD.pending(request, token) is None


def test_a_session_holds_three_files_and_the_oldest_goes(world):
    request = request_of(world.pingjiang_staff)
    tokens = []
    for number in range(4):
        tokens.append(HELD.stash(request, LEDGER + b"%d" % number, "a.csv", "fp"))
        time.sleep(0.001)
    assert HELD.pending(request, tokens[0]) is None
    assert len(default_storage.listdir("ledger-imports")[1]) == 3
    assert [HELD.read(HELD.pending(request, t))[-1:] for t in tokens[1:]] == [b"1", b"2", b"3"]


def test_another_session_or_user_cannot_use_the_token(world):
    mine = request_of(world.pingjiang_staff)
    token = HELD.stash(mine, LEDGER, "a.csv", "fp")
    path = HELD.pending(mine, token).path
    theirs = request_of(world.canglang_staff)
    assert HELD.pending(theirs, token) is None
    HELD.discard(theirs, token)
    assert default_storage.exists(path)  # their discard cannot touch my file
    # the same session signed in as someone else
    assert HELD.pending(request_of(world.bureau, mine.session), token) is None
    assert HELD.read(HELD.pending(mine, token)) == LEDGER


def test_a_token_is_bound_to_its_kind(world):
    held = HeldUploads(directory="services-imports", session_key="services_import_pending")
    request = request_of(world.pingjiang_staff)
    token = held.stash(request, LEDGER, "a.xlsx", "fp", kind="merchants")
    assert held.pending(request, token, kind="agreements") is None
    assert held.pending(request, token) is None
    assert held.pending(request, token, kind="merchants") is not None


def test_a_path_in_the_session_is_not_trusted_outside_the_held_directory(world, media):
    request = request_of(world.pingjiang_staff)
    token = HELD.stash(request, LEDGER, "a.csv", "fp")
    entry = request.session["ledger_import_pending"][token]
    photo = default_storage.save("visit-photos/2026/马晓东家.jpg", ContentFile(b"jpeg"))
    another = HELD.stash(request_of(world.pingjiang_staff), LEDGER, "b.csv", "fp")
    for path in (
        photo,
        f"ledger-imports/../{photo}",
        f"ledger-imports/{another}.csv",  # another session's held file
        str(media / "ledger-imports" / f"{token}.csv"),  # absolute
        f"ledger-imports/sub/{token}.csv",
        f"ledger-imports/{token}.csv\x00",
        None,
    ):
        entry["path"] = path
        assert HELD.pending(request, token) is None, path
    HELD.discard(request, token)
    assert default_storage.exists(photo)
    assert default_storage.exists(f"ledger-imports/{another}.csv")


def test_a_file_changed_while_held_is_not_read(world, media):
    request = request_of(world.pingjiang_staff)
    token = HELD.stash(request, LEDGER, "a.csv", "fp")
    (media / "ledger-imports" / f"{token}.csv").write_bytes(LEDGER + "PJL-102,白雨,回族\n".encode())
    assert HELD.read(HELD.pending(request, token)) is None
    (media / "ledger-imports" / f"{token}.csv").unlink()
    assert HELD.read(HELD.pending(request, token)) is None


def test_a_new_fingerprint_is_kept_for_the_next_confirmation(world):
    request = request_of(world.pingjiang_staff)
    token = HELD.stash(request, LEDGER, "a.csv", "fp-1")
    held = HELD.update_fingerprint(request, HELD.pending(request, token), "fp-2")
    assert held.fingerprint == "fp-2"
    assert HELD.pending(request, token).fingerprint == "fp-2"
    assert HELD.read(HELD.pending(request, token)) == LEDGER


def test_files_nobody_confirmed_go_after_a_day(world, media):
    request = request_of(world.pingjiang_staff)
    old = HELD.stash(request, LEDGER, "a.csv", "fp")
    day_ago = time.time() - 24 * 60 * 60 - 60
    os.utime(media / "ledger-imports" / f"{old}.csv", (day_ago, day_ago))
    other = default_storage.save("visit-photos/old.jpg", ContentFile(b"jpeg"))
    os.utime(media / other, (day_ago, day_ago))
    fresh = HELD.stash(request_of(world.bureau), LEDGER, "b.csv", "fp")  # purges on the way
    assert default_storage.listdir("ledger-imports")[1] == [f"{fresh}.csv"]
    assert default_storage.exists(other)  # only the held directory is purged
