"""The upload limit, before a byte of an upload is kept: a request whose body is larger than
the home's limit (``[import] max_upload_mb``) is not read at all. Its form comes out empty and
the request is marked (``request.upload_too_large``, the limit in bytes), so that the tape page
says the file is too large and the API answers 413."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from npldesk.monthend.uploads import upload_limit

# Room for the form's other fields and the multipart boundaries around the file.
FORM_ROOM = 64 * 1024


class LimitedUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: refuses a body over the limit, unread."""

    def handle_raw_input(
        self,
        input_data: Any,
        META: Any,
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, Any]] | None:
        limit = upload_limit(settings.HOME)
        if content_length > limit + FORM_ROOM:
            if self.request is not None:
                self.request.upload_too_large = limit  # type: ignore[attr-defined]
            return QueryDict(), MultiValueDict()
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
