"""GrandScale API client: `Client` calls every operation by its operationId, checked
against the bundled OpenAPI document; `upload_file`, `wait_for_parse`, `wait_for_export`
and `download` wrap the presigned-URL flows."""
from .client import ApiError, Client, Operation, ValidationError, load_spec, operations_of
from .models import Export, FileVersion, MultipartUpload, SingleUpload, TokenPair
from .uploads import StorageError, download, upload_file, wait_for_export, wait_for_parse
from .validator import Validator

__all__ = [
    "ApiError", "Client", "Export", "FileVersion", "MultipartUpload", "Operation", "SingleUpload", "StorageError",
    "TokenPair", "ValidationError", "Validator", "download", "load_spec", "operations_of", "upload_file",
    "wait_for_export", "wait_for_parse",
]
