"""Typed models for the answers the helpers work with (pydantic; extra fields kept)."""
from __future__ import annotations

from typing import Dict, List, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class TokenPair(_Model):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class ParseProgress(_Model):
    done: int
    total: Optional[int]


class FileVersion(_Model):
    version_id: int
    file_id: int
    version_number: Optional[int]
    filename: str
    content_type: str
    size_bytes: int
    sha256: Optional[str]
    status: Literal["pending", "ready"]
    parse_status: Optional[Literal["queued", "running", "succeeded", "failed"]]
    parse_progress: ParseProgress
    parse_error: Optional[str]


class SingleUpload(_Model):
    upload_id: int
    file_id: int
    version_id: int
    expires_at: str
    method: Literal["PUT"]
    url: str
    headers: Dict[str, str]


class UploadPart(_Model):
    part_number: int
    url: str


class MultipartUpload(_Model):
    upload_id: int
    file_id: int
    version_id: int
    expires_at: str
    part_size: int
    parts: List[UploadPart]


Upload = Union[SingleUpload, MultipartUpload]


class Export(_Model):
    export_id: int
    project_id: int
    status: Literal["queued", "running", "succeeded", "failed"]
    format: str
    scope: str
    row_count: int
    size_bytes: int
    sha256: Optional[str]
    error: Optional[str]
    download_url: Optional[str]
    download_expires_at: Optional[str]
