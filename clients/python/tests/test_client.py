"""Offline tests: the spec-driven client, the validator and the upload flow against a stub
(httpx.MockTransport standing in for the API and the storage endpoint)."""
import hashlib
import json
import os
import sys
import unittest

import httpx

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from grandscale import ApiError, Client, ValidationError, Validator, load_spec, upload_file  # noqa: E402

BASE = "http://api.test"
VERSION = {
    "version_id": 7, "file_id": 3, "version_number": 1, "filename": "a.csv", "content_type": "text/csv",
    "size_bytes": 4, "sha256": None, "status": "ready", "parse_status": "queued",
    "parse_progress": {"done": 0, "total": None}, "parse_error": None, "uploaded_by": 1,
    "created_at": "x", "updated_at": "x", "completed_at": "x",
}


class Recorder:
    """A stub API + storage: answers by (method, path) and records every request."""

    def __init__(self, routes, fail_first=0):
        self.routes = routes
        self.requests = []
        self.fail_first = fail_first

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fail_first:
            self.fail_first -= 1
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        self.requests.append(request)
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"title": "not found"})
        return handler(request)


def client_with(routes, **kwargs):
    recorder = Recorder(routes, **kwargs)
    return Client(BASE, token="t0k", transport=httpx.MockTransport(recorder)), recorder


class SpecTests(unittest.TestCase):
    def test_every_operation_has_an_id_and_a_snake_case_alias(self):
        client = Client(BASE)
        self.assertGreater(len(client.operations), 50)
        self.assertIn("createProject", client.operations)
        self.assertTrue(callable(client.create_project))
        self.assertTrue(callable(client.createProject))
        with self.assertRaises(AttributeError):
            client.noSuchOperation  # noqa: B018

    def test_every_request_schema_in_the_spec_resolves(self):
        spec = load_spec()
        validator = Validator(spec)
        for name in spec["components"]["schemas"]:
            validator.errors({}, {"$ref": f"#/components/schemas/{name}"})


class CallTests(unittest.TestCase):
    def test_path_query_headers_body_and_auth(self):
        seen = {}

        def handler(request):
            seen["request"] = request
            return httpx.Response(200, json={"data": [], "next_cursor": None})

        client, _ = client_with({("GET", "/api/v1/users"): handler})
        self.assertEqual(client.listUsers(limit=5, is_active=True, q="a b"), {"data": [], "next_cursor": None})
        request = seen["request"]
        self.assertEqual(request.url.params["limit"], "5")
        self.assertEqual(request.url.params["is_active"], "true")
        self.assertEqual(request.url.params["q"], "a b")
        self.assertEqual(request.headers["authorization"], "Bearer t0k")

    def test_post_carries_an_idempotency_key_and_the_json_body(self):
        seen = {}

        def handler(request):
            seen["request"] = request
            return httpx.Response(201, json={"project_id": 9})

        client, _ = client_with({("POST", "/api/v1/projects"): handler})
        self.assertEqual(client.create_project(body={"name": "P"}), {"project_id": 9})
        self.assertEqual(json.loads(seen["request"].content), {"name": "P"})
        self.assertTrue(seen["request"].headers["idempotency-key"])

    def test_if_match_header_parameter(self):
        seen = {}

        def handler(request):
            seen["request"] = request
            return httpx.Response(200, json={})

        client, _ = client_with({("PUT", "/api/v1/projects/4/label-schema"): handler})
        client.putLabelSchema(project_id=4, if_match='"v1"', body={"questions": [{"name": "a", "type": "text"}]})
        self.assertEqual(seen["request"].headers["if-match"], '"v1"')

    def test_bad_calls_are_refused_before_sending(self):
        client, recorder = client_with({})
        cases = [
            ("createProject", {"body": {}}, "body.name: required"),
            ("createProject", {"body": {"name": "x", "colour": "red"}}, "body.colour: not allowed"),
            ("createProject", {"body": {"name": ""}}, "body.name: shorter than 1"),
            ("createProject", {"body": {"name": "x", "org_id": 0}}, "body.org_id: must be greater than 0"),
            ("createProject", {"body": {"name": "x", "org_id": "1"}}, "body.org_id: expected integer"),
            ("getProject", {}, "path.project_id: required"),
            ("getProject", {"project_id": 1, "colour": 2}, "colour: not a parameter"),
            ("createUpload", {"project_id": 1, "body": {"filename": "a", "content_type": "text/csv", "size_bytes": 1,
                                                        "file_type": "dataset", "sha256": "nothex"}}, "body.sha256: does not match"),
            ("createExport", {"project_id": 1, "body": {"format": "xml"}}, "body.format: must be one of"),
            ("putLabelSchema", {"project_id": 1, "body": {"questions": [{"name": "q", "type": "label"}]}}, "oneOf"),
            ("register", {"body": {"email": "nope", "password": "x" * 12, "full_name": "a", "organization_name": "o"}},
             "body.email: not a valid email"),
            ("noSuchOperation", {}, "no such operationId"),
        ]
        for operation_id, kwargs, message in cases:
            with self.subTest(operation_id=operation_id, message=message):
                with self.assertRaises(ValidationError) as caught:
                    client.call(operation_id, **kwargs)
                self.assertIn(message, str(caught.exception))
        self.assertEqual(recorder.requests, [])

    def test_problem_answers_raise_api_error(self):
        client, _ = client_with({("GET", "/api/v1/projects/3"): lambda r: httpx.Response(
            404, json={"title": "Not found", "status": 404}, headers={"content-type": "application/problem+json"})})
        with self.assertRaises(ApiError) as caught:
            client.getProject(project_id=3)
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(caught.exception.problem["title"], "Not found")

    def test_a_dropped_connection_is_retried_with_the_same_idempotency_key(self):
        client, recorder = client_with({("POST", "/api/v1/projects"): lambda r: httpx.Response(201, json={"project_id": 1})},
                                       fail_first=1)
        self.assertEqual(client.createProject(body={"name": "x"}), {"project_id": 1})
        self.assertEqual(len(recorder.requests), 1)


class UploadTests(unittest.TestCase):
    def routes(self, created, stored):
        polls = {"n": 0}

        def complete(request):
            stored["complete"] = json.loads(request.content)
            return httpx.Response(200, json=VERSION)

        def get_version(request):
            polls["n"] += 1
            return httpx.Response(200, json={**VERSION, "parse_status": "succeeded" if polls["n"] > 1 else "running"})

        def put(request):
            stored.setdefault("puts", []).append((request.url.path, request.content, dict(request.headers)))
            return httpx.Response(200, headers={"etag": f'"etag-{len(stored["puts"])}"'})

        return {
            ("POST", "/api/v1/projects/5/uploads"): lambda r: (stored.__setitem__("declared", json.loads(r.content)),
                                                              httpx.Response(201, json=created))[1],
            ("POST", "/api/v1/uploads/11/complete"): complete,
            ("GET", "/api/v1/file-versions/7"): get_version,
            ("PUT", "/bucket/single"): put,
            ("PUT", "/bucket/part1"): put,
            ("PUT", "/bucket/part2"): put,
        }

    def test_single_put_with_the_signed_headers_then_complete_then_parse(self):
        stored = {}
        created = {"upload_id": 11, "file_id": 3, "version_id": 7, "expires_at": "x", "method": "PUT",
                   "url": "http://storage.test/bucket/single?X-Amz-Signature=s", "headers": {"content-type": "text/csv", "x-amz-checksum-sha256": "abc"}}
        client, recorder = client_with(self.routes(created, stored), fail_first=0)
        version = upload_file(client, 5, b"a,b\n", filename="a.csv")
        self.assertEqual(version.parse_status, "succeeded")
        self.assertEqual(stored["declared"]["sha256"], hashlib.sha256(b"a,b\n").hexdigest())
        self.assertEqual(stored["declared"]["size_bytes"], 4)
        path, body, headers = stored["puts"][0]
        self.assertEqual((path, body, headers["x-amz-checksum-sha256"]), ("/bucket/single", b"a,b\n", "abc"))
        self.assertNotIn("authorization", headers)
        self.assertEqual(stored["complete"], {})

    def test_multipart_puts_each_part_and_completes_with_the_etags(self):
        stored = {}
        data = b"0123456789"
        created = {"upload_id": 11, "file_id": 3, "version_id": 7, "expires_at": "x", "part_size": 6,
                   "parts": [{"part_number": 1, "url": "http://storage.test/bucket/part1"},
                             {"part_number": 2, "url": "http://storage.test/bucket/part2"}]}
        client, _ = client_with(self.routes(created, stored))
        upload_file(client, 5, data, filename="big.csv")
        self.assertEqual([body for _, body, _ in stored["puts"]], [b"012345", b"6789"])
        self.assertEqual(stored["complete"], {"parts": [{"part_number": 1, "etag": '"etag-1"'}, {"part_number": 2, "etag": '"etag-2"'}]})


if __name__ == "__main__":
    unittest.main()
