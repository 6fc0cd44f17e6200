"""Every operation of the GrandScale API, callable by its operationId, checked against the
OpenAPI document (grandscale/openapi.json, a copy of clients/openapi.json) before sending."""
from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Dict, List, Mapping, Optional

import httpx

from .validator import Validator

_METHODS = ("get", "post", "put", "patch", "delete")
# A connection that failed before any answer: safe to send again (POSTs carry an Idempotency-Key).
RETRYABLE = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def load_spec() -> Dict[str, Any]:
    """The OpenAPI document this package was built from."""
    return json.loads(resources.files("grandscale").joinpath("openapi.json").read_text(encoding="utf-8"))


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class ValidationError(ValueError):
    """The call breaks the spec; nothing was sent."""

    def __init__(self, operation_id: str, problems: List[str]):
        super().__init__(f"{operation_id}: " + "; ".join(problems))
        self.operation_id = operation_id
        self.problems = problems


class ApiError(Exception):
    """The API answered 4xx/5xx; `problem` is its problem+json body (or text)."""

    def __init__(self, operation_id: str, response: httpx.Response):
        try:
            problem: Any = response.json()
        except ValueError:
            problem = response.text
        super().__init__(f"{operation_id}: {response.status_code} {problem}")
        self.operation_id = operation_id
        self.status = response.status_code
        self.problem = problem
        self.response = response


@dataclass
class Parameter:
    name: str
    location: str  # path | query | header
    required: bool
    schema: Mapping[str, Any]


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str
    parameters: List[Parameter] = field(default_factory=list)
    body_schema: Optional[Mapping[str, Any]] = None
    body_required: bool = False

    @property
    def python_names(self) -> Dict[str, Parameter]:
        """Parameters by the keyword a caller passes: `project_id`, `if_match`, `idempotency_key`."""
        return {p.name.lower().replace("-", "_"): p for p in self.parameters}


def operations_of(spec: Mapping[str, Any]) -> Dict[str, Operation]:
    found: Dict[str, Operation] = {}
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            op = item.get(method)
            if not op or "operationId" not in op:
                continue
            parameters = [
                Parameter(p["name"], p["in"], bool(p.get("required", p["in"] == "path")), p.get("schema", {}))
                for p in [*shared, *op.get("parameters", [])]
                if p.get("in") in ("path", "query", "header")
            ]
            body = op.get("requestBody", {})
            found[op["operationId"]] = Operation(
                op["operationId"], method.upper(), path, parameters,
                body.get("content", {}).get("application/json", {}).get("schema"), bool(body.get("required")),
            )
    return found


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Client:
    """`Client(base_url, token=...)`; then `client.createProject(body={...})` or
    `client.call("getProject", project_id=1)` (snake_case names work too: `client.get_project`).

    Keyword arguments are the operation's path, query and header parameters (`if_match`
    for `if-match`); `body=` is the JSON body; `headers=` adds any other header. Each is
    checked against the spec first (ValidationError, nothing sent). The answer is the
    parsed JSON (None for 204); `call_raw` answers the httpx.Response (headers, ETag).
    """

    def __init__(self, base_url: str = "http://127.0.0.1:8787", token: Optional[str] = None, *,
                 spec: Optional[Mapping[str, Any]] = None, transport: Optional[httpx.BaseTransport] = None,
                 timeout: float = 30.0, retries: int = 3):
        self.spec = spec if spec is not None else load_spec()
        self.operations = operations_of(self.spec)
        self._by_snake = {snake_case(name): name for name in self.operations}
        self.validator = Validator(self.spec)
        self.retries = retries
        self.token = token
        self.http = httpx.Client(base_url=base_url.rstrip("/"), transport=transport, timeout=timeout)
        # Presigned storage URLs: no API credentials, the same transport (tests stub both).
        self.storage = httpx.Client(transport=transport, timeout=timeout)

    def with_token(self, token: str) -> "Client":
        """Another client on the same server and spec, authenticated as `token`."""
        other = Client.__new__(Client)
        other.__dict__.update(self.__dict__)
        other.token = token
        return other

    def close(self) -> None:
        self.http.close()
        self.storage.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        operations = self.__dict__.get("operations", {})
        operation_id = name if name in operations else self.__dict__.get("_by_snake", {}).get(name)
        if operation_id is None:
            raise AttributeError(f"no operation or attribute {name!r}")
        return lambda **kwargs: self.call(operation_id, **kwargs)

    def __dir__(self) -> List[str]:
        return [*super().__dir__(), *self.operations, *self._by_snake]

    def build_request(self, operation_id: str, body: Any = None, headers: Optional[Mapping[str, str]] = None,
                      **params: Any) -> httpx.Request:
        """The checked request for an operation (ValidationError when it breaks the spec)."""
        operation = self.operations.get(operation_id)
        if operation is None:
            raise ValidationError(operation_id, ["no such operationId in the spec"])
        problems: List[str] = []
        names = operation.python_names
        for key in params:
            if key not in names:
                problems.append(f"{key}: not a parameter of {operation_id} (has: {', '.join(names) or 'none'})")
        path = operation.path
        query: Dict[str, str] = {}
        sent_headers: Dict[str, str] = dict(headers or {})
        for key, parameter in names.items():
            value = params.get(key)
            if value is None:
                if parameter.required:
                    problems.append(f"{parameter.location}.{parameter.name}: required")
                continue
            problems.extend(self.validator.errors(value, parameter.schema, f"{parameter.location}.{parameter.name}"))
            if parameter.location == "path":
                path = path.replace("{" + parameter.name + "}", _quote(str(value)))
            elif parameter.location == "query":
                query[parameter.name] = ",".join(map(_query_value, value)) if isinstance(value, (list, tuple)) else _query_value(value)
            else:
                sent_headers[parameter.name] = str(value)
        if operation.body_schema is not None:
            if body is None and operation.body_required:
                problems.append("body: required")
            elif body is not None:
                problems.extend(self.validator.errors(body, operation.body_schema, "body"))
        elif body is not None:
            problems.append("body: this operation takes none")
        if problems:
            raise ValidationError(operation_id, problems)
        if self.token and not any(k.lower() == "authorization" for k in sent_headers):
            sent_headers["authorization"] = f"Bearer {self.token}"
        if operation.method == "POST" and not any(k.lower() == "idempotency-key" for k in sent_headers):
            sent_headers["Idempotency-Key"] = str(uuid.uuid4())
        return self.http.build_request(operation.method, path, params=query or None, headers=sent_headers,
                                       json=body if body is not None else None)

    def call_raw(self, operation_id: str, body: Any = None, headers: Optional[Mapping[str, str]] = None,
                 **params: Any) -> httpx.Response:
        """Sends the checked request (retrying a dropped connection); answers the response as it came."""
        request = self.build_request(operation_id, body=body, headers=headers, **params)
        return send_with_retries(self.http, request, self.retries)

    def call(self, operation_id: str, body: Any = None, headers: Optional[Mapping[str, str]] = None,
             **params: Any) -> Any:
        """Sends the checked request; the parsed JSON answer, or ApiError for 4xx/5xx."""
        response = self.call_raw(operation_id, body=body, headers=headers, **params)
        if response.status_code >= 400:
            raise ApiError(operation_id, response)
        if response.status_code == 204 or not response.content:
            return None
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.content


def _quote(value: str) -> str:
    from urllib.parse import quote
    return quote(value, safe="")


def send_with_retries(http: httpx.Client, request: httpx.Request, retries: int = 3) -> httpx.Response:
    for attempt in range(1, retries + 1):
        try:
            return http.send(request)
        except RETRYABLE:
            if attempt >= retries:
                raise
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")
