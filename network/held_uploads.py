"""An uploaded file held between an import's preview and its confirmation.

The preview and the confirmation are two requests. Between them the file waits in the default
storage under a random token that only the uploading session knows, with its checksum and the
preview's fingerprint; confirming reads that file again, so nothing parsed is ever taken back
from the browser. The files live under MEDIA_ROOT, which the web server must not serve, and are
named by their token only. A path read from the session is used only if it names a file of
this token directly in the held directory.
"""

import contextlib
import hashlib
import re
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

# What may follow the token in a held file's name: the storage's de-duplicating "_abc1234"
# and the upload's own suffix (".xlsx").
_NAME_TAIL = re.compile(r"[A-Za-z0-9_-]*(\.[a-z0-9]{1,10})?")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")


@dataclass(frozen=True)
class HeldUpload:
    """One waiting file, as its session recorded it."""

    token: str
    path: str
    filename: str
    sha256: str
    fingerprint: str


@dataclass(frozen=True)
class HeldUploads:
    """The files one kind of import holds: in ``directory`` of the default storage, recorded
    in the session under ``session_key``. A preview may wait ``max_age`` seconds for its
    confirmation; a session holds at most ``per_session`` files (the oldest go first); files
    nobody confirmed (closed tabs) are deleted after ``stale_after`` seconds."""

    directory: str
    session_key: str
    max_age: int = 60 * 60
    per_session: int = 3
    stale_after: int = 24 * 60 * 60

    def stash(
        self, request, data: bytes, filename: str, fingerprint: str, *, kind: str | None = None
    ) -> str:
        """Hold ``data`` for this session and user; the token to confirm it with. ``kind``
        binds the token to one of several imports sharing this directory."""
        self.purge_stale()
        token = secrets.token_urlsafe(24)
        suffix = Path(filename).suffix.lower()
        if not _SUFFIX.fullmatch(suffix):
            suffix = ""
        path = default_storage.save(f"{self.directory}/{token}{suffix}", ContentFile(data))
        stored = self._stored(request)
        excess = len(stored) - self.per_session + 1
        for old in sorted(stored, key=lambda t: _at(stored[t]))[: max(excess, 0)]:
            self._delete(old, stored.pop(old))
        entry = {} if kind is None else {"kind": kind}
        stored[token] = entry | {
            "path": path,
            "filename": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
            "fingerprint": fingerprint,
            "user": request.user.pk,
            "at": time.time(),
        }
        request.session[self.session_key] = stored
        return token

    def pending(self, request, token: str, *, kind: str | None = None) -> HeldUpload | None:
        """The file held under ``token`` for this session, user and ``kind``; None when the
        token is unknown here, expired, another user's or another kind's."""
        entry = self._stored(request).get(token)
        if not isinstance(entry, dict) or entry.get("user") != request.user.pk:
            return None
        if entry.get("kind") != kind or time.time() - _at(entry) > self.max_age:
            return None
        path = self._own_path(token, entry)
        texts = [entry.get(name) for name in ("filename", "sha256", "fingerprint")]
        if path is None or not all(isinstance(text, str) for text in texts):
            return None
        return HeldUpload(token, path, *texts)

    def read(self, held: HeldUpload | None) -> bytes | None:
        """The held file's bytes; None when there is none, it is gone or it has changed."""
        if held is None:
            return None
        try:
            with default_storage.open(held.path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != held.sha256:
            return None
        return data

    def update_fingerprint(self, request, held: HeldUpload, fingerprint: str) -> HeldUpload:
        """Keep the file for another confirmation, now of a preview that looked different."""
        stored = self._stored(request)
        if isinstance(stored.get(held.token), dict):
            stored[held.token] = stored[held.token] | {"fingerprint": fingerprint}
            request.session[self.session_key] = stored
        return replace(held, fingerprint=fingerprint)

    def discard(self, request, token: str) -> None:
        """Forget ``token`` in this session and delete its file (confirmed, cancelled,
        expired or refused)."""
        stored = self._stored(request)
        if token in stored:
            self._delete(token, stored.pop(token))
            request.session[self.session_key] = stored

    def purge_stale(self) -> None:
        """Delete the files of previews nobody confirmed, whatever session held them."""
        try:
            _dirs, files = default_storage.listdir(self.directory)
        except (OSError, NotImplementedError):
            return
        limit = time.time() - self.stale_after
        for name in files:
            path = f"{self.directory}/{name}"
            try:
                if default_storage.get_modified_time(path).timestamp() < limit:
                    default_storage.delete(path)
            except (OSError, NotImplementedError):
                continue

    # ------------------------------------------------------------ the session's record

    def _stored(self, request) -> dict:
        stored = request.session.get(self.session_key)
        return dict(stored) if isinstance(stored, dict) else {}

    def _own_path(self, token: str, entry) -> str | None:
        """The entry's path if it names this token's file directly in the held directory;
        the session is not trusted to point anywhere else."""
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not token:
            return None
        where = PurePosixPath(path)
        if where.parent != PurePosixPath(self.directory):
            return None
        name = where.name
        if not name.startswith(token) or not _NAME_TAIL.fullmatch(name[len(token) :]):
            return None
        return path

    def _delete(self, token: str, entry) -> None:
        path = self._own_path(token, entry)
        if path is not None:
            with contextlib.suppress(OSError):  # already gone
                default_storage.delete(path)


def _at(entry) -> float:
    at = entry.get("at") if isinstance(entry, dict) else None
    return at if isinstance(at, int | float) else 0.0
