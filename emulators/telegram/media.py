"""Files the bot uploads or reuses by file_id, and the Document/PhotoSize objects Telegram returns.

Uploads are kept byte for byte so that getFile + /file/bot<token>/<path> hands back exactly what
was sent. Photos are not resized: every PhotoSize points at the original bytes, but the sizes
listed follow Telegram's thumbnail ladder so code that picks "the largest" behaves as in production.
"""
from __future__ import annotations

import mimetypes
import struct
from typing import TYPE_CHECKING, Any

from . import errors as E
from .models import FileRecord
from .params import Params

if TYPE_CHECKING:
    from .state import TelegramState

UPLOAD_LIMIT = 50 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024
_LADDER = (("s", 90), ("m", 320), ("x", 800), ("y", 1280), ("w", 2560))


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF or JPEG, from its header."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return width, height
            i += 2 + length
    return None


def input_file(state: "TelegramState", params: Params, name: str, kind: str) -> FileRecord:
    """The file in parameter `name`: a fresh upload, or an existing file_id."""
    upload = params.upload(name)
    if upload is not None:
        data, file_name, content_type = upload
        if not data:
            raise E.bad_request("file must be non-empty")
        if len(data) > UPLOAD_LIMIT:
            raise E.ApiError(413, "Request Entity Too Large")
        width = height = None
        if kind == "photos":
            size = image_size(data)
            if size is None:
                raise E.bad_request(E.IMAGE_PROCESS_FAILED)
            width, height = size
        mime = (mimetypes.guess_type(file_name)[0] if file_name else None) or content_type
        if kind == "photos":
            file_name, mime = None, None
        return state.store_file(data, kind, file_name, mime, width, height)
    ref = params.get_str(name)
    if not ref:
        raise E.bad_request(f"there is no {name} in the request")
    with state.lock:
        record = state.files.get(ref)
    if record is None:
        if ref.startswith(("http://", "https://")):
            raise E.bad_request("failed to get HTTP URL content")
        raise E.bad_request(E.WRONG_FILE_ID)
    if not record.file_path.startswith(kind):
        raise E.bad_request("type of file mismatch")
    return record


def document_json(record: FileRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if record.file_name:
        out["file_name"] = record.file_name
    if record.mime_type:
        out["mime_type"] = record.mime_type
    out.update(file_id=record.file_id, file_unique_id=record.file_unique_id, file_size=len(record.data))
    return out


def photo_json(state: "TelegramState", record: FileRecord) -> list[dict[str, Any]]:
    """PhotoSize list, smallest first; the last entry is the original."""
    width, height = record.width or 1, record.height or 1
    longest = max(width, height)
    sizes: list[dict[str, Any]] = []
    for _, edge in _LADDER:
        if edge >= longest:
            break
        scale = edge / longest
        twin = state.store_file(record.data, "photos", width=max(1, round(width * scale)),
                                height=max(1, round(height * scale)))
        sizes.append({"file_id": twin.file_id, "file_unique_id": twin.file_unique_id,
                      "file_size": len(twin.data), "width": twin.width, "height": twin.height})
    sizes.append({"file_id": record.file_id, "file_unique_id": record.file_unique_id,
                  "file_size": len(record.data), "width": width, "height": height})
    return sizes


def file_json(record: FileRecord) -> dict[str, Any]:
    """The File object getFile returns."""
    if len(record.data) > DOWNLOAD_LIMIT:
        raise E.bad_request(E.FILE_TOO_BIG)
    return {"file_id": record.file_id, "file_unique_id": record.file_unique_id, "file_size": len(record.data),
            "file_path": record.file_path}
