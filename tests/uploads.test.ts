/**
 * Uploads end to end: the API hands out presigned URLs, the bytes go over real HTTP to
 * the local S3 endpoint Miniflare serves for the FILES bucket (which checks every
 * signature), and `complete` verifies what arrived. The parse message is observed by
 * spying on the PARSE_QUEUE binding the Worker sends through.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../src/env.ts";
import { ApiError } from "../src/lib/errors.ts";
import { presignUrl } from "../src/storage/presign.ts";
import { s3Target } from "../src/storage/s3-target.ts";
import { attachmentDisposition } from "../src/storage/content-disposition.ts";
import { MAX_PARTS, MAX_PART_BYTES, MIN_PART_BYTES, planParts } from "../src/storage/multipart.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient, type Account } from "./helpers/factories.ts";
import { request } from "./helpers/http.ts";
import { insertParsedTable } from "./helpers/annotation.ts";
import { eventsOf, insertFile, insertProject, insertVersion, type ProjectFixture } from "./helpers/projects.ts";
import {
  completeUpload,
  csvBytes,
  encoder,
  objectKeyOf,
  putObject,
  putParts,
  sha256Hex,
  startUpload,
  uploadFile,
  versionRow,
  type MultipartUpload,
  type SingleUpload,
} from "./helpers/uploads.ts";

const db = testDb();
const MIB = 1024 * 1024;
const OBJECT_KEY = /^org\/\d+\/project\/\d+\/file\/\d+\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let client: Account;
let project: ProjectFixture;

beforeAll(async () => {
  client = await registerClient();
  project = await insertProject(client.org_id);
});

afterEach(() => {
  vi.restoreAllMocks();
});

function spyOnParseQueue() {
  return vi.spyOn(env.PARSE_QUEUE, "sendBatch");
}

/** The parse messages the spy saw, as their bodies. */
function parseMessages(spy: ReturnType<typeof spyOnParseQueue>) {
  return spy.mock.calls.flatMap(([messages]) => [...messages].map((message) => message.body));
}

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  // getRandomValues fills at most 64 KiB per call.
  for (let offset = 0; offset < size; offset += 65536) crypto.getRandomValues(bytes.subarray(offset, Math.min(offset + 65536, size)));
  return bytes;
}

/** -1 when equal; a deep toEqual on megabytes of bytes would build a diff the size of the file. */
function firstDifference(actual: Uint8Array, expected: Uint8Array): number {
  const length = Math.max(actual.byteLength, expected.byteLength);
  for (let index = 0; index < length; index++) if (actual[index] !== expected[index]) return index;
  return -1;
}

function storageError(body: string) {
  return /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
}

/**
 * Counts the reads of the object at `key` (objectSha256, what `complete` hashes with, is
 * the only FILES.get of it; parse consumers of other tests read other keys meanwhile) and
 * holds each at a gate until `open()`, so a test can complete again while a hash runs.
 */
function gateObjectReads(key: string) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const read = env.FILES.get.bind(env.FILES) as (key: string, options?: R2GetOptions) => Promise<R2ObjectBody | null>;
  const spy = vi.spyOn(env.FILES, "get").mockImplementation((async (readKey: string, options?: R2GetOptions) => {
    if (readKey === key) await gate;
    return read(readKey, options);
  }) as never);
  return { reads: () => spy.mock.calls.filter(([readKey]) => readKey === key).length, open };
}

/** The answer, or null when it takes longer than `ms` (today's code would wait on the gate). */
function within<T>(answer: Promise<T>, ms = 5000): Promise<T | null> {
  return Promise.race([answer, new Promise<null>((resolve) => setTimeout(() => resolve(null), ms))]);
}

/** Bytes of the same length as `bytes`, with other content (a presigned PUT signs the length). */
function sameLengthOther(bytes: Uint8Array): Uint8Array {
  return bytes.map((byte) => (byte === 0x31 ? 0x32 : byte));
}

describe("single PUT upload", () => {
  it("creates a pending version, takes the bytes at the presigned URL, and completes to a ready version with its parse queued", async () => {
    const bytes = csvBytes(5);
    const sha256 = await sha256Hex(bytes);
    const started = await startUpload(client.token, project.project_id, bytes, { filename: "survey.csv", sha256 });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.roundTrips).toBe(1);
    const upload = started.body as SingleUpload;
    expect(upload).toMatchObject({ method: "PUT", upload_id: expect.any(Number), file_id: expect.any(Number), version_id: expect.any(Number) });
    expect(upload.headers).toEqual({
      "Content-Type": "text/csv",
      "Content-Length": String(bytes.byteLength),
      "Content-Disposition": `attachment; filename="survey.csv"; filename*=UTF-8''survey.csv`,
      "If-None-Match": "*",
    });
    const expiresIn = Date.parse(upload.expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(3500_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);

    const url = new URL(upload.url);
    expect(`${url.origin}${url.pathname}`.startsWith(`${env.R2_S3_ENDPOINT}/grandscale-files/org/${client.org_id}/project/${project.project_id}/file/${upload.file_id}/`)).toBe(true);
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("content-disposition;content-length;content-type;host;if-none-match");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("3600");
    expect(await versionRow(upload.version_id)).toMatchObject({ status: "pending", version_number: null, parse_status: null });

    const stored = await putObject(upload, bytes);
    expect(stored.status, await stored.clone().text()).toBe(200);

    const queue = spyOnParseQueue();
    const completed = await completeUpload(client.token, upload.upload_id);
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(completed.roundTrips).toBe(2);
    expect(completed.body).toMatchObject({
      version_id: upload.version_id,
      file_id: upload.file_id,
      version_number: 1,
      filename: "survey.csv",
      content_type: "text/csv",
      size_bytes: bytes.byteLength,
      sha256,
      status: "ready",
      parse_status: "queued",
      parse_progress: { done: 0, total: null },
      parse_error: null,
      uploaded_by: client.user_id,
    });
    expect(completed.body.completed_at).toEqual(expect.any(String));
    expect(parseMessages(queue)).toEqual([{ kind: "parse", version_id: upload.version_id }]);

    const object = await env.FILES.get(await objectKeyOf(upload.upload_id));
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(bytes);
    expect(object!.httpMetadata).toMatchObject({ contentType: "text/csv", contentDisposition: upload.headers["Content-Disposition"] });

    const file = await db.execute(sql`select status, current_version_id from file where file_id = ${upload.file_id}`);
    expect(file.rows[0]).toEqual({ status: "ready_for_annotation", current_version_id: upload.version_id });
    expect((await eventsOf("file", upload.file_id)).map((event) => event.action)).toEqual(["file.create"]);
    const versionEvents = await eventsOf("file_version", upload.version_id);
    expect(versionEvents.map((event) => event.action)).toEqual(["file_version.create", "file_version.complete"]);
    expect(versionEvents[1]).toMatchObject({
      actor_id: client.user_id,
      org_id: client.org_id,
      project_id: project.project_id,
      before: { status: "pending", version_number: null, parse_status: null },
      after: { status: "ready", version_number: 1, parse_status: "queued", upload_id: upload.upload_id },
    });
  });

  it("keys objects by tenant and a random id: the client's filename is sanitised and never part of the key", async () => {
    const bytes = csvBytes();
    const started = await startUpload(client.token, project.project_id, bytes, { filename: "../../etc/\u0007pass  wd\u202e.csv" });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const key = await objectKeyOf(started.body.upload_id);
    expect(key).toMatch(OBJECT_KEY);
    expect(key.startsWith(`org/${client.org_id}/project/${project.project_id}/file/${started.body.file_id}/`)).toBe(true);
    expect(started.body.url).not.toContain("pass");
    const version = await db.execute(sql`select filename from file_version where version_id = ${started.body.version_id}`);
    expect(version.rows[0]).toEqual({ filename: "pass wd.csv" });
  });

  it("is refused by storage with a forged signature, after expiry, or with another Content-Length or Content-Type", async () => {
    const bytes = csvBytes();
    const started = await startUpload(client.token, project.project_id, bytes);
    const upload = started.body as SingleUpload;

    const signature = new URL(upload.url).searchParams.get("X-Amz-Signature")!;
    const forgedSignature = `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`;
    const forged = await fetch(upload.url.replace(signature, forgedSignature), { method: "PUT", headers: upload.headers, body: bytes });
    expect(forged.status).toBe(403);
    expect(storageError(await forged.text())).toBe("SignatureDoesNotMatch");

    const { ["Content-Length"]: _declared, ...withoutLength } = upload.headers;
    const longer = await putObject(upload, encoder.encode(`${new TextDecoder().decode(bytes)}9,extra\n`), withoutLength);
    expect(longer.status).toBe(403);
    expect(storageError(await longer.text())).toBe("SignatureDoesNotMatch");

    const otherType = await putObject(upload, bytes, { ...upload.headers, "Content-Type": "application/json" });
    expect(otherType.status).toBe(403);
    expect(storageError(await otherType.text())).toBe("SignatureDoesNotMatch");

    // The same URL the API would give, signed two hours ago for one hour.
    const key = await objectKeyOf(upload.upload_id);
    const expiredUrl = await presignUrl(
      { endpoint: env.R2_S3_ENDPOINT!, bucket: env.R2_BUCKET_NAME, accessKeyId: env.R2_ACCESS_KEY_ID!, secretAccessKey: env.R2_SECRET_ACCESS_KEY! },
      {
        method: "PUT",
        operation: "PutObject",
        key,
        expiresIn: 3600,
        signedAt: new Date(Date.now() - 2 * 3600_000),
        headers: Object.fromEntries(Object.entries(upload.headers).map(([name, value]) => [name.toLowerCase(), value])),
      },
    );
    const expired = await fetch(expiredUrl, { method: "PUT", headers: upload.headers, body: bytes });
    expect(expired.status).toBe(403);
    expect(storageError(await expired.text())).toBe("ExpiredRequest");

    expect(await env.FILES.head(key)).toBeNull();
    const completed = await completeUpload(client.token, upload.upload_id);
    expect(completed.status).toBe(409);
    expect(completed.body.detail).toMatch(/Nothing has been uploaded/);
    expect((await versionRow(upload.version_id))!.status).toBe("pending");
  });

  it("answers 422 and keeps the version pending when the stored size differs from the declared one", async () => {
    const bytes = csvBytes();
    const started = await startUpload(client.token, project.project_id, bytes);
    // Storage refuses another size at the presigned URL (above); this is bytes written some other way.
    await env.FILES.put(await objectKeyOf(started.body.upload_id), encoder.encode("short"));
    const queue = spyOnParseQueue();
    const completed = await completeUpload(client.token, started.body.upload_id);
    expect(completed.status).toBe(422);
    expect(completed.headers.get("content-type")).toContain("application/problem+json");
    expect(completed.body.detail).toBe(`The stored file has 5 bytes, but the upload declared ${bytes.byteLength}.`);
    expect(completed.roundTrips).toBe(1);
    expect(await versionRow(started.body.version_id)).toMatchObject({ status: "pending", version_number: null });
    expect(queue).not.toHaveBeenCalled();
  });

  it("answers 422 and keeps the version pending when the stored bytes do not have the declared SHA-256", async () => {
    const bytes = csvBytes();
    const started = await startUpload(client.token, project.project_id, bytes, { sha256: await sha256Hex(csvBytes(4)) });
    expect((await putObject(started.body, bytes)).status).toBe(200);
    const completed = await completeUpload(client.token, started.body.upload_id);
    expect(completed.status).toBe(422);
    expect(completed.body.detail).toContain(`SHA-256 is ${await sha256Hex(bytes)}`);
    expect(await versionRow(started.body.version_id)).toMatchObject({ status: "pending", version_number: null });
  });

  it("treats a second complete as a no-op: the same version, one parse message, one audit row", async () => {
    const bytes = csvBytes();
    const started = await startUpload(client.token, project.project_id, bytes);
    await putObject(started.body, bytes);
    const queue = spyOnParseQueue();
    const first = await completeUpload(client.token, started.body.upload_id);
    const second = await completeUpload(client.token, started.body.upload_id);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.roundTrips).toBe(1);
    expect(second.body).toEqual(first.body);
    expect(parseMessages(queue)).toHaveLength(1);
    const events = await eventsOf("file_version", started.body.version_id);
    expect(events.filter((event) => event.action === "file_version.complete")).toHaveLength(1);
  });

  it("completes once when the same upload is completed concurrently", async () => {
    const bytes = csvBytes();
    const started = await startUpload(client.token, project.project_id, bytes);
    await putObject(started.body, bytes);
    const queue = spyOnParseQueue();
    const answers = await Promise.all(Array.from({ length: 5 }, () => completeUpload(client.token, started.body.upload_id)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((answer) => answer.body.version_number))).toEqual(new Set([1]));
    expect(parseMessages(queue)).toEqual([{ kind: "parse", version_id: started.body.version_id }]);
    const events = await eventsOf("file_version", started.body.version_id);
    expect(events.filter((event) => event.action === "file_version.complete")).toHaveLength(1);
  });

  it("refuses to complete an expired upload (409) and leaves its version pending", async () => {
    const bytes = csvBytes();
    const started = await startUpload(client.token, project.project_id, bytes);
    await putObject(started.body, bytes);
    // Expired a minute ago: inside the sweep's grace hour, so a concurrent sweep leaves it alone.
    await db.execute(sql`update upload set created_at = now() - interval '2 hours', expires_at = now() - interval '1 minute'
      where upload_id = ${started.body.upload_id}`);
    const completed = await completeUpload(client.token, started.body.upload_id);
    expect(completed.status).toBe(409);
    expect(completed.body.detail).toMatch(/expired at .*start a new upload/);
    expect((await versionRow(started.body.version_id))!.status).toBe("pending");
  });
});

describe("complete hashes an object at most once", () => {
  it("answers a complete arriving while another verifies 409 with Retry-After, hashes once, then answers the completed version", async () => {
    const bytes = csvBytes();
    const started = await startUpload(client.token, project.project_id, bytes, { sha256: await sha256Hex(bytes) });
    expect((await putObject(started.body, bytes)).status).toBe(200);
    const { reads, open } = gateObjectReads(await objectKeyOf(started.body.upload_id));
    try {
      const first = completeUpload(client.token, started.body.upload_id);
      await vi.waitFor(() => expect(reads()).toBe(1));
      const second = await within(completeUpload(client.token, started.body.upload_id));
      expect(second?.status, "the second complete must not wait for, or repeat, the first one's hash").toBe(409);
      expect(second!.body.detail).toMatch(/^Upload \d+ is being completed by another request, which is verifying its SHA-256; retry in \d+ s\.$/);
      expect(Number(second!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(second!.roundTrips).toBe(1);
      open();
      const firstAnswer = await first;
      expect(firstAnswer.status, JSON.stringify(firstAnswer.body)).toBe(200);
      expect(firstAnswer.roundTrips).toBe(2);
      const again = await completeUpload(client.token, started.body.upload_id);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(firstAnswer.body);
      expect(again.roundTrips).toBe(1);
    } finally {
      open();
    }
    expect(reads()).toBe(1);
  });

  it("hashes a mismatching object once when retried in parallel, removes it so the same URL takes the right bytes, and never hashes the same bytes twice", async () => {
    const right = csvBytes();
    const wrong = sameLengthOther(right);
    const started = await startUpload(client.token, project.project_id, right, { sha256: await sha256Hex(right) });
    const upload = started.body as SingleUpload;
    expect((await putObject(upload, wrong)).status).toBe(200);
    const key = await objectKeyOf(upload.upload_id);
    const { reads, open } = gateObjectReads(key);
    try {
      const first = completeUpload(client.token, upload.upload_id);
      await vi.waitFor(() => expect(reads()).toBe(1));
      const parallel = await within(Promise.all([1, 2, 3].map(() => completeUpload(client.token, upload.upload_id))));
      expect(parallel?.map((answer) => answer.status)).toEqual([409, 409, 409]);
      open();
      const refused = await first;
      expect(refused.status).toBe(422);
      expect(refused.body.detail).toBe(
        `The stored file's SHA-256 is ${await sha256Hex(wrong)}, but the upload declared ${await sha256Hex(right)}; PUT the right bytes to the same URL, then complete again.`,
      );
      // The claim and the verdict: two round trips.
      expect(refused.roundTrips).toBe(2);
    } finally {
      open();
    }
    expect(reads()).toBe(1);
    expect(await env.FILES.head(key)).toBeNull();
    const nothing = await completeUpload(client.token, upload.upload_id);
    expect(nothing.status).toBe(409);
    expect(nothing.body.detail).toContain(`(the bytes PUT before had the SHA-256 ${await sha256Hex(wrong)} and were removed)`);
    const failures = (await eventsOf("file_version", upload.version_id)).filter((event) => event.action === "file_version.verify_failed");
    expect(failures).toHaveLength(1);
    expect(failures[0]!.after).toMatchObject({ upload_id: upload.upload_id, stored_sha256: await sha256Hex(wrong), bytes_removed: true });

    // The same wrong bytes again: recognised by their ETag, refused without hashing.
    expect((await putObject(upload, wrong)).status).toBe(200);
    const sameAgain = await completeUpload(client.token, upload.upload_id);
    expect(sameAgain.status).toBe(422);
    expect(reads()).toBe(1);

    expect((await putObject(upload, right)).status).toBe(200);
    const completed = await completeUpload(client.token, upload.upload_id);
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(completed.body).toMatchObject({ status: "ready", version_number: 1, sha256: await sha256Hex(right) });
    expect(reads()).toBe(2);
  });

  it("answers a retried multipart mismatch from the recorded hash: the assembled object is kept and not hashed again", async () => {
    const bytes = new Uint8Array(5 * MIB + 1).fill(66);
    const started = await startUpload(client.token, project.project_id, bytes, { sha256: await sha256Hex(csvBytes()) });
    const upload = started.body as MultipartUpload;
    const parts = await putParts(upload, bytes);
    const { reads, open } = gateObjectReads(await objectKeyOf(upload.upload_id));
    open();
    const first = await completeUpload(client.token, upload.upload_id, { parts });
    expect(first.status).toBe(422);
    expect(first.body.detail).toMatch(/; start a new upload\.$/);
    const retry = await completeUpload(client.token, upload.upload_id, { parts });
    expect(retry.status).toBe(422);
    expect(retry.body.detail).toBe(first.body.detail);
    // Two in parallel: one answers from the record, the other finds it claimed meanwhile.
    const parallel = await Promise.all([1, 2].map(() => completeUpload(client.token, upload.upload_id, { parts })));
    expect(parallel.map((answer) => answer.status).sort()).toEqual([409, 422]);
    expect(reads()).toBe(1);
    expect((await env.FILES.head(await objectKeyOf(upload.upload_id)))!.size).toBe(bytes.byteLength);
    expect(await versionRow(upload.version_id)).toMatchObject({ status: "pending" });
  });

  it("takes over a verification whose request died once its lease has run out", async () => {
    const bytes = csvBytes();
    const started = await startUpload(client.token, project.project_id, bytes, { sha256: await sha256Hex(bytes) });
    await putObject(started.body, bytes);
    await db.execute(sql`update upload set verify_lease_until = now() + interval '2 minutes' where upload_id = ${started.body.upload_id}`);
    const held = await completeUpload(client.token, started.body.upload_id);
    expect(held.status).toBe(409);
    expect(Number(held.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(held.headers.get("retry-after"))).toBeLessThanOrEqual(120);
    await db.execute(sql`update upload set verify_lease_until = now() - interval '1 second' where upload_id = ${started.body.upload_id}`);
    const completed = await completeUpload(client.token, started.body.upload_id);
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
  });

  it("gives back only its own lease: one that ran out and was taken over stays with its new holder", async () => {
    const right = csvBytes();
    const started = await startUpload(client.token, project.project_id, right, { sha256: await sha256Hex(right) });
    await putObject(started.body, sameLengthOther(right));
    const { reads, open } = gateObjectReads(await objectKeyOf(started.body.upload_id));
    try {
      const first = completeUpload(client.token, started.body.upload_id);
      await vi.waitFor(() => expect(reads()).toBe(1));
      // Meanwhile the first's lease runs out and another request takes the upload over.
      await db.execute(sql`update upload set verify_lease_until = now() + interval '3 minutes' where upload_id = ${started.body.upload_id}`);
      open();
      expect((await first).status).toBe(422);
    } finally {
      open();
    }
    const row = await db.execute(sql`select verify_lease_until > now() as held, hashed_sha256 from upload where upload_id = ${started.body.upload_id}`);
    expect(row.rows[0]).toEqual({ held: true, hashed_sha256: null });
    expect((await completeUpload(client.token, started.body.upload_id)).status).toBe(409);
  });
});

describe("a presigned PUT cannot replace a stored object", () => {
  it("refuses the original URL after complete (412, and 403 without If-None-Match): the verified bytes stay", async () => {
    const bytes = csvBytes();
    const other = sameLengthOther(bytes);
    const { upload, version } = await uploadFile(client.token, project.project_id, bytes, { sha256: await sha256Hex(bytes) });
    const key = await objectKeyOf(upload.upload_id);
    const before = await env.FILES.head(key);

    const replaced = await putObject(upload, other);
    expect(replaced.status).toBe(412);
    expect(storageError(await replaced.text())).toBe("PreconditionFailed");
    const { ["If-None-Match"]: _condition, ...unconditional } = upload.headers;
    const forced = await putObject(upload, other, unconditional);
    expect(forced.status).toBe(403);
    expect(storageError(await forced.text())).toBe("SignatureDoesNotMatch");

    const object = await env.FILES.get(key);
    expect(object!.etag).toBe(before!.etag);
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(bytes);
    const download = await request("GET", `/api/v1/file-versions/${version.version_id}/download`, { token: client.token });
    expect(new Uint8Array(await (await fetch(download.body.url)).arrayBuffer())).toEqual(bytes);
  });

  it("refuses a part URL after its multipart upload was completed", async () => {
    const bytes = new Uint8Array(5 * MIB + 1).fill(67);
    const started = await startUpload(client.token, project.project_id, bytes);
    const upload = started.body as MultipartUpload;
    const parts = await putParts(upload, bytes);
    expect((await completeUpload(client.token, upload.upload_id, { parts })).status).toBe(200);
    const again = await fetch(upload.parts[1]!.url, { method: "PUT", body: new Uint8Array(1).fill(68) });
    expect(again.status).toBe(404);
    expect(storageError(await again.text())).toBe("NoSuchUpload");
    const object = await env.FILES.get(await objectKeyOf(upload.upload_id));
    expect(firstDifference(new Uint8Array(await object!.arrayBuffer()), bytes)).toBe(-1);
  });
});

describe("new versions of a file", () => {
  it("numbers versions uniquely even when they are completed concurrently, the last becoming current", async () => {
    const { version: first } = await uploadFile(client.token, project.project_id, csvBytes(1));
    const uploads = await Promise.all(
      [2, 3, 4, 5].map(async (rows) => {
        const bytes = csvBytes(rows);
        const started = await startUpload(client.token, project.project_id, bytes, { file_id: first.file_id });
        expect(started.status, JSON.stringify(started.body)).toBe(201);
        expect(started.body.file_id).toBe(first.file_id);
        await putObject(started.body, bytes);
        return started.body as SingleUpload;
      }),
    );
    const completed = await Promise.all(uploads.map((upload) => completeUpload(client.token, upload.upload_id)));
    expect(completed.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(completed.map((answer) => answer.body.version_number).sort()).toEqual([2, 3, 4, 5]);
    const latest = completed.find((answer) => answer.body.version_number === 5)!;
    const file = await db.execute(sql`select current_version_id from file where file_id = ${first.file_id}`);
    expect(file.rows[0]).toEqual({ current_version_id: latest.body.version_id });
  });

  it("keeps the file's type, its project, and its visibility", async () => {
    const { version } = await uploadFile(client.token, project.project_id, csvBytes());
    const bytes = csvBytes();
    const otherType = await startUpload(client.token, project.project_id, bytes, { file_id: version.file_id, file_type: "report" });
    expect(otherType.status).toBe(422);
    expect(otherType.body.errors).toEqual([{ path: "body.file_type", message: "must be dataset, the file's type" }]);

    const otherProject = await insertProject(client.org_id);
    const elsewhere = await startUpload(client.token, otherProject.project_id, bytes, { file_id: version.file_id });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.roundTrips).toBe(1);

    await db.execute(sql`update file set deleted_at = now() where file_id = ${version.file_id}`);
    const deleted = await startUpload(client.token, project.project_id, bytes, { file_id: version.file_id });
    expect(deleted.status).toBe(404);
  });
});

describe("multipart upload", () => {
  it("uploads three parts to their presigned URLs and completes to an object byte-identical to the file", async () => {
    const size = 2 * 5 * MIB + 12_345;
    const bytes = randomBytes(size);
    const sha256 = await sha256Hex(bytes);

    const started = await startUpload(client.token, project.project_id, bytes, { filename: "big.csv", sha256 });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    // The rows, then recording R2's multipart upload id (R2 assigns it only for an existing key).
    expect(started.roundTrips).toBe(2);
    const upload = started.body as MultipartUpload;
    expect(upload).not.toHaveProperty("url");
    expect(upload.part_size).toBe(5 * MIB);
    expect(upload.parts.map((part) => part.part_number)).toEqual([1, 2, 3]);
    for (const part of upload.parts) {
      const url = new URL(part.url);
      expect(url.searchParams.get("partNumber")).toBe(String(part.part_number));
      expect(url.searchParams.get("uploadId")).toEqual(expect.any(String));
      expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("content-length;host");
    }

    const parts = await putParts(upload, bytes);
    const queue = spyOnParseQueue();
    const completed = await completeUpload(client.token, upload.upload_id, { parts: [...parts].reverse() });
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(completed.roundTrips).toBe(2);
    expect(completed.body).toMatchObject({ version_number: 1, size_bytes: size, sha256, status: "ready", parse_status: "queued" });
    expect(parseMessages(queue)).toEqual([{ kind: "parse", version_id: upload.version_id }]);

    const object = await env.FILES.get(await objectKeyOf(upload.upload_id));
    expect(object!.size).toBe(size);
    expect(firstDifference(new Uint8Array(await object!.arrayBuffer()), bytes)).toBe(-1);
    expect(object!.httpMetadata).toMatchObject({ contentType: "text/csv", contentDisposition: attachmentDisposition("big.csv") });
  });

  it("signs each part's length, and needs every part listed once", async () => {
    const size = 5 * MIB + 1;
    const bytes = new Uint8Array(size).fill(65);
    const started = await startUpload(client.token, project.project_id, bytes);
    const upload = started.body as MultipartUpload;
    // Small on purpose: storage answers 403 without reading the body, and a large body
    // still being written when it closes the connection ends as a reset, not an answer.
    const tooShort = await fetch(upload.parts[0]!.url, { method: "PUT", body: bytes.slice(0, 1000) });
    expect(tooShort.status).toBe(403);
    expect(storageError(await tooShort.text())).toBe("SignatureDoesNotMatch");

    const parts = await putParts(upload, bytes);
    const missing = await completeUpload(client.token, upload.upload_id, { parts: parts.slice(0, 1) });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([{ path: "body.parts", message: "must list part_number 1 to 2, each once" }]);
    const none = await completeUpload(client.token, upload.upload_id);
    expect(none.status).toBe(422);
    const badEtag = await completeUpload(client.token, upload.upload_id, { parts: [parts[0], { part_number: 2, etag: '"0123"' }] });
    expect(badEtag.status).toBe(422);
    expect(await versionRow(upload.version_id)).toMatchObject({ status: "pending" });

    const completed = await completeUpload(client.token, upload.upload_id, { parts });
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
  });

  it("plans parts the way R2 requires: equal parts but the last, 5 MiB to 5 GiB, at most 10,000", () => {
    for (const size of [1, 5 * MIB, 5 * MIB + 1, 100 * MIB + 7, 1024 ** 3, 5 * 1024 ** 3, 1024 ** 4 + 3, 5 * 1024 ** 4]) {
      const plan = planParts(size);
      expect(plan.part_size).toBeGreaterThanOrEqual(MIN_PART_BYTES);
      expect(plan.part_size).toBeLessThanOrEqual(MAX_PART_BYTES);
      expect(plan.part_count).toBeLessThanOrEqual(MAX_PARTS);
      expect(plan.last_part_size).toBeGreaterThan(0);
      expect(plan.last_part_size).toBeLessThanOrEqual(plan.part_size);
      expect((plan.part_count - 1) * plan.part_size + plan.last_part_size).toBe(size);
    }
  });
});

describe("download", () => {
  it("answers a short-lived presigned GET that returns the exact bytes and the original filename", async () => {
    const bytes = encoder.encode("name,note\nZoë,\"naïve, \"\"quoted\"\"\"\n");
    const filename = "Résumé données (v2).csv";
    const { version } = await uploadFile(client.token, project.project_id, bytes, { filename });
    const answer = await request("GET", `/api/v1/file-versions/${version.version_id}/download`, { token: client.token });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.roundTrips).toBe(1);
    const expiresIn = Date.parse(answer.body.expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(200_000);
    expect(expiresIn).toBeLessThanOrEqual(300_000);
    const disposition = `attachment; filename="Resume donnees (v2).csv"; filename*=UTF-8''R%C3%A9sum%C3%A9%20donn%C3%A9es%20%28v2%29.csv`;
    expect(new URL(answer.body.url).searchParams.get("response-content-disposition")).toBe(disposition);

    const downloaded = await fetch(answer.body.url);
    expect(downloaded.status).toBe(200);
    expect(new Uint8Array(await downloaded.arrayBuffer())).toEqual(bytes);
    expect(downloaded.headers.get("content-disposition")).toBe(disposition);
    expect(downloaded.headers.get("content-type")).toBe("text/csv");

    const tampered = await fetch(answer.body.url.replace("response-content-disposition=attachment", "response-content-disposition=inline"));
    expect(tampered.status).toBe(403);
  });

  it("is 409 while the version's upload is not complete", async () => {
    const started = await startUpload(client.token, project.project_id, csvBytes());
    const answer = await request("GET", `/api/v1/file-versions/${started.body.version_id}/download`, { token: client.token });
    expect(answer.status).toBe(409);
  });

  it("signs a URL for a ready version whose object is gone, and storage answers it 404 (no bytes of another object)", async () => {
    // Written straight to the database with no object in R2 (and no parse queued for it).
    const versionId = await insertVersion(await insertFile(project));
    const answer = await request("GET", `/api/v1/file-versions/${versionId}/download`, { token: client.token });
    expect(answer.status).toBe(200);
    const downloaded = await fetch(answer.body.url);
    expect(downloaded.status).toBe(404);
    expect(await downloaded.text()).toContain("NoSuchKey");
  });
});

describe("declarations", () => {
  it("accepts only the configured content types (422) and sizes up to the per-file limit (413)", async () => {
    const bytes = csvBytes();
    const exe = await startUpload(client.token, project.project_id, bytes, { filename: "tool.exe", content_type: "application/x-msdownload" });
    expect(exe.status).toBe(422);
    expect(exe.body.errors).toEqual([{ path: "body.content_type", message: expect.stringContaining("must be one of: text/csv") }]);
    const withCharset = await startUpload(client.token, project.project_id, bytes, { content_type: "text/csv; charset=utf-8" });
    expect(withCharset.status).toBe(201);
    expect(withCharset.body.headers["Content-Type"]).toBe("text/csv; charset=utf-8");

    const huge = await startUpload(client.token, project.project_id, bytes, { size_bytes: 5 * 1024 ** 3 + 1 });
    expect(huge.status).toBe(413);
    expect(huge.body.detail).toContain("at most 5368709120 bytes");
  });

  it("validates the body (422 with paths)", async () => {
    const response = await request("POST", `/api/v1/projects/${project.project_id}/uploads`, {
      token: client.token,
      body: { filename: "//", content_type: "csv", size_bytes: 0, sha256: "xyz", file_type: "video" },
    });
    expect(response.status).toBe(422);
    expect(response.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(
      ["body.content_type", "body.file_type", "body.filename", "body.sha256", "body.size_bytes"],
    );
  });

  it("refuses uploads into an archived project (409)", async () => {
    const archived = await insertProject(client.org_id, { status: "archived" });
    const response = await startUpload(client.token, archived.project_id, csvBytes());
    expect(response.status).toBe(409);
    const files = await db.execute(sql`select count(*)::integer as count from file where project_id = ${archived.project_id}`);
    expect(files.rows[0]).toEqual({ count: 0 });
  });

  it("replays a create with the same Idempotency-Key instead of starting a second upload", async () => {
    const bytes = csvBytes();
    const key = crypto.randomUUID();
    const first = await startUpload(client.token, project.project_id, bytes, {}, { "idempotency-key": key });
    const again = await startUpload(client.token, project.project_id, bytes, {}, { "idempotency-key": key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
  });
});

describe("access", () => {
  it("hides another organization's project, upload and versions (404)", async () => {
    const other = await registerClient();
    const bytes = csvBytes();
    const intoOther = await startUpload(client.token, (await insertProject(other.org_id)).project_id, bytes);
    expect(intoOther.status).toBe(404);
    expect(intoOther.roundTrips).toBe(1);

    const started = await startUpload(client.token, project.project_id, bytes);
    await putObject(started.body, bytes);
    const foreignComplete = await completeUpload(other.token, started.body.upload_id);
    expect(foreignComplete.status).toBe(404);
    expect(foreignComplete.roundTrips).toBe(1);
    const completed = await completeUpload(client.token, started.body.upload_id);
    const foreignDownload = await request("GET", `/api/v1/file-versions/${completed.body.version_id}/download`, { token: other.token });
    expect(foreignDownload.status).toBe(404);
  });

  it("lets a client_member and the project's pm upload, not an annotator (403 on a project of theirs, 404 otherwise)", async () => {
    const [member, pm, annotator] = await Promise.all([createUser("client_member", client.org_id), createUser("pm"), createUser("annotator")]);
    const managed = await insertProject(client.org_id, { our_pm_id: pm.user_id });
    const bytes = csvBytes();

    expect((await startUpload(member.token, managed.project_id, bytes)).status).toBe(201);
    expect((await startUpload(pm.token, managed.project_id, bytes)).status).toBe(201);
    expect((await startUpload(pm.token, project.project_id, bytes)).status).toBe(404);

    expect((await startUpload(annotator.token, managed.project_id, bytes)).status).toBe(404);
    const table = await insertParsedTable(managed, 2);
    await db.execute(sql`with job as (
        insert into annotation_job (project_id, table_id, name, row_start, row_end) values (${managed.project_id}, ${table.table_id}, 'Job', 0, 1)
        returning job_id
      )
      insert into assignment (job_id, user_id, role) select job_id, ${annotator.user_id}, 'annotator' from job`);
    const refused = await startUpload(annotator.token, managed.project_id, bytes);
    expect(refused.status).toBe(403);
    expect(refused.roundTrips).toBe(1);
    const files = await db.execute(sql`select count(*)::integer as count from file where project_id = ${managed.project_id} and created_by = ${annotator.user_id}`);
    expect(files.rows[0]).toEqual({ count: 0 });

    const started = await startUpload(member.token, managed.project_id, bytes);
    await putObject(started.body, bytes);
    expect((await completeUpload(annotator.token, started.body.upload_id)).status).toBe(403);
    const completed = await completeUpload(pm.token, started.body.upload_id);
    expect(completed.status).toBe(200);
    const download = await request("GET", `/api/v1/file-versions/${completed.body.version_id}/download`, { token: annotator.token });
    expect(download.status).toBe(404);
  });
});

describe("configuration", () => {
  const withoutStorage = { ...env, R2_S3_ENDPOINT: undefined, R2_ACCESS_KEY_ID: undefined, R2_SECRET_ACCESS_KEY: undefined };

  it("works without storage settings, answering 503 only where presigned URLs are needed", () => {
    const config = loadConfig({ ...withoutStorage, MULTIPART_THRESHOLD_BYTES: undefined, UPLOAD_CONTENT_TYPES: undefined });
    expect(config).toMatchObject({ UPLOAD_URL_TTL_SECONDS: 3600, DOWNLOAD_URL_TTL_SECONDS: 300, MULTIPART_THRESHOLD_BYTES: 100 * MIB, MAX_UPLOAD_BYTES: 5 * 1024 ** 3 });
    expect(config.UPLOAD_CONTENT_TYPES).toContain("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    expect(() => s3Target(config)).toThrow(ApiError);
    expect(() => s3Target(config)).toThrow(/not configured/);
  });

  it("rejects half a storage configuration and out-of-range limits", () => {
    expect(() => loadConfig({ ...withoutStorage, R2_S3_ENDPOINT: "https://abc.r2.cloudflarestorage.com" })).toThrow(
      /R2_ACCESS_KEY_ID is required with R2_S3_ENDPOINT/,
    );
    expect(() => loadConfig({ ...env, R2_S3_ENDPOINT: "ftp://example.com" })).toThrow(/R2_S3_ENDPOINT/);
    expect(() => loadConfig({ ...env, UPLOAD_URL_TTL_SECONDS: String(8 * 24 * 3600) })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, MULTIPART_THRESHOLD_BYTES: String(MIB) })).toThrow(/MULTIPART_THRESHOLD_BYTES/);
    expect(() => loadConfig({ ...env, UPLOAD_CONTENT_TYPES: "csv" })).toThrow(/UPLOAD_CONTENT_TYPES/);
  });

  it("drops a trailing slash from the endpoint", () => {
    expect(loadConfig({ ...env, R2_S3_ENDPOINT: "https://abc.r2.cloudflarestorage.com/" }).R2_S3_ENDPOINT).toBe("https://abc.r2.cloudflarestorage.com");
  });
});
