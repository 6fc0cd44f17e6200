"""The upload flow (declare, PUT to storage with the signed headers, complete, wait for
the parse) and export polling, over `Client`."""
from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, List, Optional, TypeVar

from .client import ApiError, Client, send_with_retries
from .models import Export, FileVersion, MultipartUpload, SingleUpload

T = TypeVar("T")


class StorageError(Exception):
    """Storage refused a presigned PUT or GET."""


def _storage(client: Client, method: str, url: str, content: Optional[bytes] = None, headers: Optional[dict] = None):
    request = client.storage.build_request(method, url, content=content, headers=headers or {})
    response = send_with_retries(client.storage, request, client.retries)
    if response.status_code >= 300:
        raise StorageError(f"{method} {url.split('?')[0]}: {response.status_code} {response.text[:500]}")
    return response


def upload_file(client: Client, project_id: int, data: bytes, filename: str, content_type: str = "text/csv",
                file_type: str = "dataset", file_id: Optional[int] = None, wait: bool = True,
                timeout: float = 60.0) -> FileVersion:
    """Uploads `data` as a new file (or a new version of `file_id`): a single presigned PUT
    or each part of a multipart upload (keeping the ETags), then complete; with
    `wait`, polls until the parse succeeded (ApiError/RuntimeError otherwise)."""
    body: dict = {
        "filename": filename,
        "content_type": content_type,
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "file_type": file_type,
    }
    if file_id is not None:
        body["file_id"] = file_id
    created: Any = client.call("createUpload", project_id=project_id, body=body)
    completion: dict = {}
    if "url" in created:
        single = SingleUpload.model_validate(created)
        _storage(client, single.method, single.url, data, single.headers)
    else:
        multipart = MultipartUpload.model_validate(created)
        parts: List[dict] = []
        for part in multipart.parts:
            start = (part.part_number - 1) * multipart.part_size
            response = _storage(client, "PUT", part.url, data[start:start + multipart.part_size])
            etag = response.headers.get("etag")
            if not etag:
                raise StorageError(f"part {part.part_number}: storage answered no ETag")
            parts.append({"part_number": part.part_number, "etag": etag})
        completion = {"parts": parts}
    version = FileVersion.model_validate(client.call("completeUpload", upload_id=created["upload_id"], body=completion))
    return wait_for_parse(client, version.version_id, timeout) if wait else version


def _poll_until(read: Callable[[], T], settled: Callable[[T], bool], timed_out: Callable[[T], Exception],
                timeout: float) -> T:
    """Calls `read()` with back-off (0.1 s, doubling to 1 s) until `settled` answers true, and
    raises `timed_out(last)` once `timeout` seconds have passed. `settled` raises for a
    terminal failure."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        value = read()
        if settled(value):
            return value
        if time.monotonic() > deadline:
            raise timed_out(value)
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def wait_for_parse(client: Client, version_id: int, timeout: float = 60.0) -> FileVersion:
    """Polls GET /file-versions/{id} until parse_status is succeeded (answered) or failed (RuntimeError)."""
    def settled(version: FileVersion) -> bool:
        if version.parse_status == "failed":
            raise RuntimeError(f"version {version_id} failed to parse: {version.parse_error}")
        return version.parse_status == "succeeded"

    return _poll_until(
        lambda: FileVersion.model_validate(client.call("getFileVersion", version_id=version_id)),
        settled,
        lambda version: TimeoutError(f"version {version_id} did not parse within {timeout} s ({version.parse_status})"),
        timeout,
    )


def wait_for_export(client: Client, export_id: int, timeout: float = 60.0) -> Export:
    """Polls GET /exports/{id} until it succeeded (answered, with download_url) or failed (RuntimeError)."""
    def settled(found: Export) -> bool:
        if found.status == "failed":
            raise RuntimeError(f"export {export_id} failed: {found.error}")
        return found.status == "succeeded"

    return _poll_until(
        lambda: Export.model_validate(client.call("getExport", export_id=export_id)),
        settled,
        lambda found: TimeoutError(f"export {export_id} did not finish within {timeout} s ({found.status})"),
        timeout,
    )


def download(client: Client, url: str) -> bytes:
    """GETs a presigned download URL (no API credentials)."""
    return _storage(client, "GET", url).content


__all__ = ["ApiError", "StorageError", "download", "upload_file", "wait_for_export", "wait_for_parse"]
