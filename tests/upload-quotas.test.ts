/**
 * Upload quotas per organization: open uploads, bytes declared per rolling 24 hours, and
 * stored bytes, with the defaults of wrangler.toml [vars] and the organization's own
 * overrides (organization.quota_*). Each test gets its own organization, since quotas
 * are counted per organization. Usage older than the test is made by moving rows back
 * in time, or by declaring a size on a completed upload's row.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/env.ts";
import { sql, testDb } from "./helpers/db.ts";
import { createUser, registerClient, type Account } from "./helpers/factories.ts";
import { insertProject, type ProjectFixture } from "./helpers/projects.ts";
import { completeUpload, csvBytes, putObject, startUpload, uploadFile } from "./helpers/uploads.ts";

const db = testDb();
const GIB = 1024 ** 3;

type Overrides = { quota_open_uploads?: number; quota_upload_bytes_per_day?: number; quota_stored_bytes?: number };

async function tenant(overrides: Overrides = {}): Promise<{ client: Account; project: ProjectFixture }> {
  const client = await registerClient();
  const project = await insertProject(client.org_id);
  await setQuotas(client.org_id, overrides);
  return { client, project };
}

async function setQuotas(orgId: number, overrides: Overrides) {
  await db.execute(sql`update organization set
      quota_open_uploads = ${overrides.quota_open_uploads ?? null}::integer,
      quota_upload_bytes_per_day = ${overrides.quota_upload_bytes_per_day ?? null}::bigint,
      quota_stored_bytes = ${overrides.quota_stored_bytes ?? null}::bigint
    where org_id = ${orgId}`);
}

/** Starts an upload declaring `size` bytes (the bytes themselves are never sent). */
function declare(account: Account, project: ProjectFixture, size: number, headers: Record<string, string> = {}) {
  return startUpload(account.token, project.project_id, csvBytes(), { size_bytes: size }, headers);
}

async function moveBack(uploadId: number, hours: number) {
  await db.execute(sql`update upload set created_at = created_at - make_interval(hours => ${hours}) where upload_id = ${uploadId}`);
}

async function expire(uploadId: number) {
  await db.execute(sql`update upload set created_at = now() - interval '2 hours', expires_at = now() - interval '1 minute'
    where upload_id = ${uploadId}`);
}

async function fileCount(projectId: number): Promise<number> {
  const result = await db.execute(sql`select count(*)::integer as count from file where project_id = ${projectId}`);
  return (result.rows[0] as { count: number }).count;
}

function retryAfter(response: { headers: Headers }): number {
  return Number(response.headers.get("retry-after"));
}

describe("open_uploads", () => {
  it("answers 429 at the limit, in the creating round trip, with Retry-After until the next expiry; completing or expiring frees a place", async () => {
    const { client, project } = await tenant({ quota_open_uploads: 2 });
    const bytes = csvBytes();
    const first = await startUpload(client.token, project.project_id, bytes);
    const second = await declare(client, project, 10);
    expect([first.status, second.status]).toEqual([201, 201]);

    const refused = await declare(client, project, 10);
    expect(refused.status).toBe(429);
    expect(refused.roundTrips).toBe(1);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.body.detail).toBe(
      "Quota open_uploads: your organization may have at most 2 open uploads (started, neither completed nor expired); 2 are open. " +
        "Complete one, or retry when the next expires.",
    );
    expect(retryAfter(refused)).toBeGreaterThan(3500);
    expect(retryAfter(refused)).toBeLessThanOrEqual(3600);
    expect(await fileCount(project.project_id)).toBe(2);

    await putObject(first.body, bytes);
    expect((await completeUpload(client.token, first.body.upload_id)).status).toBe(200);
    const third = await declare(client, project, 10);
    expect(third.status).toBe(201);
    expect((await declare(client, project, 10)).status).toBe(429);

    await expire(second.body.upload_id);
    expect((await declare(client, project, 10)).status).toBe(201);
  });

  it("never lets concurrent creations overshoot", async () => {
    const { client, project } = await tenant({ quota_open_uploads: 3 });
    const answers = await Promise.all(Array.from({ length: 7 }, () => declare(client, project, 10)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 201, 201, 429, 429, 429, 429]);
    expect(await fileCount(project.project_id)).toBe(3);
  });

  it("refuses every upload with a limit of 0 (403), and checks access before quotas", async () => {
    const { client, project } = await tenant({ quota_open_uploads: 0 });
    const refused = await declare(client, project, 10);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/^Quota open_uploads: your organization's limit is 0 open uploads/);

    // A full organization's project stays invisible to others, and forbidden to an annotator.
    const stranger = await registerClient();
    expect((await declare(stranger, project, 10)).status).toBe(404);
    const annotator = await createUser("annotator");
    expect((await declare(annotator, project, 10)).status).toBe(404);
  });

  it("does not replay a quota 429 to a retry with the same Idempotency-Key", async () => {
    const { client, project } = await tenant({ quota_open_uploads: 1 });
    expect((await declare(client, project, 10)).status).toBe(201);
    const key = crypto.randomUUID();
    const refused = await declare(client, project, 10, { "idempotency-key": key });
    expect(refused.status).toBe(429);
    await setQuotas(client.org_id, { quota_open_uploads: 2 });
    const retried = await declare(client, project, 10, { "idempotency-key": key });
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    const replayed = await declare(client, project, 10, { "idempotency-key": key });
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(replayed.body).toEqual(retried.body);
  });
});

describe("upload_bytes_per_day", () => {
  it("counts the last 24 hours, rolling: 429 with Retry-After until enough old bytes leave; the limit itself still fits", async () => {
    const { client, project } = await tenant({ quota_upload_bytes_per_day: 1000 });
    const old = await declare(client, project, 900);
    expect(old.status).toBe(201);
    await moveBack(old.body.upload_id, 25);
    const earlier = await declare(client, project, 600);
    expect(earlier.status, JSON.stringify(earlier.body)).toBe(201);
    await moveBack(earlier.body.upload_id, 20);
    expect((await declare(client, project, 300)).status).toBe(201);

    const refused = await declare(client, project, 200);
    expect(refused.status).toBe(429);
    expect(refused.roundTrips).toBe(1);
    expect(refused.body.detail).toBe(
      "Quota upload_bytes_per_day: your organization may start uploads of at most 1000 bytes in any 24 hours; " +
        "900 were declared in the last 24 hours, and this upload declares 200.",
    );
    // The 600 bytes started 20 hours ago leave the window in 4 hours; then 200 fit.
    expect(retryAfter(refused)).toBeGreaterThan(4 * 3600 - 30);
    expect(retryAfter(refused)).toBeLessThanOrEqual(4 * 3600);

    expect((await declare(client, project, 100)).status).toBe(201);
    expect((await declare(client, project, 1)).status).toBe(429);
  });

  it("answers 413 for one upload declaring more than the whole daily limit (waiting cannot help)", async () => {
    const { client, project } = await tenant({ quota_upload_bytes_per_day: 1000 });
    const refused = await declare(client, project, 1001);
    expect(refused.status).toBe(413);
    expect(refused.headers.get("retry-after")).toBeNull();
    expect(refused.body.detail).toBe(
      "Quota upload_bytes_per_day: your organization may start uploads of at most 1000 bytes in any 24 hours; " +
        "this one alone declares 1001 (0 declared in the last 24 hours).",
    );
  });
});

describe("stored_bytes", () => {
  it("counts completed versions of live files and open uploads; 413 above; deleted files and expired uploads free their bytes", async () => {
    const { client, project } = await tenant({ quota_stored_bytes: 1000 });
    const { upload, version } = await uploadFile(client.token, project.project_id, csvBytes());
    // As if the completed file had 700 bytes.
    await db.execute(sql`update upload set size_bytes = 700 where upload_id = ${upload.upload_id}`);
    const open = await declare(client, project, 200);
    expect(open.status).toBe(201);

    const refused = await declare(client, project, 101);
    expect(refused.status).toBe(413);
    expect(refused.roundTrips).toBe(1);
    expect(refused.body.detail).toBe(
      "Quota stored_bytes: your organization may store at most 1000 bytes; 900 are stored or reserved by open uploads, " +
        "and this upload declares 101. Delete files, or ask for a larger quota.",
    );
    expect((await declare(client, project, 100)).status).toBe(201);

    await db.execute(sql`update file set deleted_at = now() where file_id = ${version.file_id}`);
    expect((await declare(client, project, 600)).status).toBe(201);
    expect((await declare(client, project, 101)).status).toBe(413);
    await expire(open.body.upload_id);
    expect((await declare(client, project, 200)).status).toBe(201);
  });
});

describe("defaults", () => {
  it("come from wrangler.toml [vars], validated, and apply to organizations without their own", async () => {
    expect(loadConfig({ ...env })).toMatchObject({ QUOTA_OPEN_UPLOADS: 100, QUOTA_UPLOAD_BYTES_PER_DAY: 100 * GIB, QUOTA_STORED_BYTES: 1024 * GIB });
    const unset = { ...env, QUOTA_OPEN_UPLOADS: undefined, QUOTA_UPLOAD_BYTES_PER_DAY: undefined, QUOTA_STORED_BYTES: undefined };
    expect(loadConfig(unset)).toMatchObject({ QUOTA_OPEN_UPLOADS: 100, QUOTA_UPLOAD_BYTES_PER_DAY: 100 * GIB, QUOTA_STORED_BYTES: 1024 * GIB });
    expect(() => loadConfig({ ...env, QUOTA_OPEN_UPLOADS: "-1" })).toThrow(/QUOTA_OPEN_UPLOADS/);
    expect(() => loadConfig({ ...env, QUOTA_STORED_BYTES: "1 TiB" })).toThrow(/QUOTA_STORED_BYTES/);
    expect(() => loadConfig({ ...env, QUOTA_UPLOAD_BYTES_PER_DAY: "1.5" })).toThrow(/QUOTA_UPLOAD_BYTES_PER_DAY/);

    const { client, project } = await tenant();
    const { upload } = await uploadFile(client.token, project.project_id, csvBytes());
    // Stored long ago, so only stored_bytes (not upload_bytes_per_day) counts it.
    await db.execute(sql`update upload set size_bytes = ${1024 * GIB - 10} where upload_id = ${upload.upload_id}`);
    await moveBack(upload.upload_id, 25);
    const refused = await declare(client, project, 11);
    expect(refused.status).toBe(413);
    expect(refused.body.detail).toContain(`at most ${1024 * GIB} bytes; ${1024 * GIB - 10} are stored`);
    expect((await declare(client, project, 10)).status).toBe(201);

    await setQuotas(client.org_id, { quota_stored_bytes: 2048 * GIB });
    expect((await declare(client, project, 11)).status).toBe(201);
  });
});
