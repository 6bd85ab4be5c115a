"""Private files: served only through views that have already checked the owner."""

from __future__ import annotations

import mimetypes
import os
import posixpath

from django.core.files.storage import Storage, default_storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404


def serve_private(field_file: FieldFile, *, download_name: str | None = None) -> FileResponse:
    """Stream a stored file; ``download_name`` makes the browser save it instead of showing it.

    The caller looked the object up through its owner, so this only checks the file exists.
    """
    if not field_file or not field_file.name or not field_file.storage.exists(field_file.name):
        raise Http404("This file is no longer available.")
    content_type, _ = mimetypes.guess_type(download_name or field_file.name)
    response = FileResponse(
        field_file.storage.open(field_file.name, "rb"),
        as_attachment=download_name is not None,
        filename=download_name or posixpath.basename(field_file.name),
        content_type=content_type or "application/octet-stream",
    )
    # Users' files are personal: never keep them in shared caches, never sniff their type.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def delete_tree(prefix: str, *, storage: Storage = default_storage) -> int:
    """Delete every file under ``prefix`` (a folder in storage); returns how many were removed.

    Works through the storage API so it also empties object stores, then removes the emptied
    folders on a local disk.
    """
    prefix = prefix.strip("/")
    if not prefix or not storage.exists(prefix):
        return 0
    removed = 0
    folders, files = storage.listdir(prefix)
    for name in files:
        storage.delete(f"{prefix}/{name}")
        removed += 1
    for folder in folders:
        removed += delete_tree(f"{prefix}/{folder}", storage=storage)
    local = getattr(storage, "path", None)
    if local is not None:
        try:
            os.rmdir(local(prefix))
        except OSError:
            pass
    return removed
