"""The size limit on uploads, enforced while the request body arrives, before anything past the
limit is kept in memory or written to disk.

`SizeLimitHandler` comes first in FILE_UPLOAD_HANDLERS: it sees every chunk before the handlers
that keep it, and stops the upload (StopUpload) once the request's files together pass
MAX_UPLOAD_MB — or at the first file when the declared length already does. What was received
is dropped; the rest of the body is read and discarded so that the browser gets the answer.
`UploadLimitMiddleware` then answers 413 with a Chinese page instead of the view.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.shortcuts import render

REFUSED = "upload_refused"  # request attribute: why the upload was stopped
FORM_ALLOWANCE = 1024 * 1024  # the form's other fields and the multipart framing


def limit_bytes() -> int:
    return settings.MAX_UPLOAD_MB * 1024 * 1024


def refusal_message() -> str:
    return (
        f"上传的文件超过 {settings.MAX_UPLOAD_MB} MB（一次上传的所有文件合计），未接收。"
        "请检查是否选错了文件，或分批上传。"
    )


class SizeLimitHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.declared = content_length
        self.received = 0
        return None  # the other handlers parse the body

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        if self.declared > limit_bytes() + FORM_ALLOWANCE:
            self._refuse()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > limit_bytes():
            self._refuse()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file

    def _refuse(self) -> None:
        setattr(self.request, REFUSED, refusal_message())
        raise StopUpload(connection_reset=False)


class UploadLimitMiddleware:
    """Before CSRF (which reads the form too): a multipart POST is parsed here, through the
    handlers above, and one whose files were too large is answered with 413."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        if request.method != "POST" or request.content_type != "multipart/form-data":
            return None
        request.POST  # noqa: B018  (parses the body through the upload handlers)
        message = getattr(request, REFUSED, "")
        if not message:
            return None
        return render(
            request, "juesuan/error.html", {"title": "文件太大", "message": message}, status=413
        )
