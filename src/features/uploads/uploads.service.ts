/**
 * Presigned uploads: bytes go from the client straight to R2; the API hands out signed
 * URLs, then verifies what arrived. Round trips: creating an upload is 1 (one batch:
 * lock the organization's row for its quotas, then the access check, quota check, file,
 * version, upload and audit rows in one statement; a multipart upload adds 1 to record
 * R2's upload id, which R2 assigns only once the object key exists); completing is 2
 * (read and, when a SHA-256 is to be checked, claim the upload; then one batch that
 * numbers the version), 1 when it was already completed or another request is verifying
 * it, 2 when a claimed verification fails (the claim is given back); a download URL is 1.
 */
import { sql, type SQL } from "drizzle-orm";
import type { fileType } from "../../db/schema/enums.ts";
import { fileVisible, projectVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { runWrite } from "../../lib/write.ts";
import { sendParseMessages } from "../../queues/producers.ts";
import { attachmentDisposition } from "../../storage/content-disposition.ts";
import { objectSha256 } from "../../storage/digest.ts";
import { partLength, planParts, type PartPlan } from "../../storage/multipart.ts";
import { presignUrl } from "../../storage/presign.ts";
import { s3Target } from "../../storage/s3-target.ts";
import { can } from "../auth/principal.ts";
import { presentFileVersion, type FileVersionRow, type FileVersionView } from "../files/files.presenters.ts";
import { lockQuotaOwner, QUOTA_COLUMNS, quotaCheck, quotaRefusal, type QuotaRow } from "./upload-quotas.ts";

export type CreateUploadInput = {
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256?: string | undefined;
  file_type: (typeof fileType.enumValues)[number];
  file_id?: number | undefined;
};

type UploadIds = { upload_id: number; file_id: number; version_id: number; expires_at: string };
export type SingleUploadView = UploadIds & { method: "PUT"; url: string; headers: Record<string, string> };
export type MultipartUploadView = UploadIds & { part_size: number; parts: { part_number: number; url: string }[] };

// The file_version columns answers show (never r2_key or parse_cursor).
const VERSION_COLUMNS = sql.raw(
  ["version_id", "file_id", "version_number", "filename", "size_bytes", "sha256", "content_type", "status", "parse_status",
    "parse_progress_done", "parse_progress_total", "parse_error", "uploaded_by", "created_at", "updated_at", "completed_at"]
    .map((column) => `fv.${column}`).join(", "),
);

function forbidden(): never {
  throw new ApiError("forbidden", "Your role does not allow uploading files (file:upload is required).");
}

function mediaTypeOf(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

/** Whole seconds: SigV4 timestamps have no milliseconds, and expires_at must equal the URL's own expiry. */
function signingClock(ttlSeconds: number) {
  const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  return { signedAt, expiresAt: new Date(signedAt.getTime() + ttlSeconds * 1000) };
}

function checkDeclaration(ctx: AuthenticatedContext, input: CreateUploadInput) {
  const allowed = ctx.config.UPLOAD_CONTENT_TYPES;
  if (!allowed.includes(mediaTypeOf(input.content_type))) {
    throw new ApiError("validation_failed", `Files of type ${mediaTypeOf(input.content_type)} cannot be uploaded.`, {
      errors: [{ path: "body.content_type", message: `must be one of: ${allowed.join(", ")}` }],
    });
  }
  if (input.size_bytes > ctx.config.MAX_UPLOAD_BYTES) {
    throw new ApiError("payload_too_large", `A file may have at most ${ctx.config.MAX_UPLOAD_BYTES} bytes; this one declares ${input.size_bytes}.`);
  }
}

type CreatedRow = QuotaRow & {
  visible: boolean;
  project_status: string | null;
  file_found: boolean;
  existing_file_type: string | null;
  upload_id: number | null;
  file_id: number | null;
  version_id: number | null;
  r2_key: string | null;
};

/**
 * One statement: the project as the caller sees it, the file to add a version to, and —
 * only when the caller may upload there — the new file, its pending version, the upload
 * row and their audit rows. The object key is tenant-scoped and ends in a random UUID,
 * so it is unguessable; the client's filename never appears in it.
 */
function insertUpload(ctx: AuthenticatedContext, projectId: number, input: CreateUploadInput, plan: PartPlan | null, expiresAt: Date): SQL {
  const { principal } = ctx;
  const fileId = input.file_id ?? null;
  const objectId = crypto.randomUUID();
  return sql`with target as (
      select p.project_id, p.org_id, p.status from project p
      where p.project_id = ${projectId} and p.deleted_at is null and ${projectVisible(principal, "p")}
    ), existing as (
      select f.file_id, f.file_type from file f join target t on t.project_id = f.project_id
      where f.file_id = ${fileId}::integer and f.deleted_at is null and ${fileVisible(principal, "f")}
    ), quota as (
      ${quotaCheck(ctx, input.size_bytes)}
    ), permitted as (
      select t.project_id, t.org_id from target t
      where ${can(principal, "file:upload")}::boolean and t.status <> 'archived'
        and (${fileId}::integer is null or exists (select 1 from existing e where e.file_type = ${input.file_type}::file_type))
        and coalesce((select fits from quota), false)
    ), new_file as (
      insert into file (project_id, org_id, filename, content_type, file_type, created_by)
      select project_id, org_id, ${input.filename}, ${input.content_type}, ${input.file_type}::file_type, ${principal.user_id}::integer
      from permitted where ${fileId}::integer is null
      returning file_id, project_id, org_id, filename, content_type, file_type
    ), chosen as (
      select file_id, project_id, org_id from new_file
      union all
      select e.file_id, p.project_id, p.org_id from existing e cross join permitted p
    ), version as (
      insert into file_version (file_id, filename, r2_key, size_bytes, sha256, content_type, uploaded_by)
      select c.file_id, ${input.filename}, format('org/%s/project/%s/file/%s/%s', c.org_id, c.project_id, c.file_id, ${objectId}::text),
        ${input.size_bytes}::bigint, ${input.sha256 ?? null}::text, ${input.content_type}, ${principal.user_id}::integer
      from chosen c
      returning version_id, file_id, r2_key, filename, size_bytes, content_type
    ), created as (
      insert into upload (project_id, org_id, file_id, version_id, r2_key, part_size, size_bytes, content_type, sha256, expires_at, created_by)
      select c.project_id, c.org_id, v.file_id, v.version_id, v.r2_key, ${plan?.part_size ?? null}::integer, ${input.size_bytes}::bigint,
        ${input.content_type}, ${input.sha256 ?? null}::text, ${expiresAt.toISOString()}::timestamptz, ${principal.user_id}::integer
      from version v join chosen c on c.file_id = v.file_id
      returning upload_id, file_id, version_id, r2_key, project_id, org_id
    ), audited_file as (
      ${auditInsert(ctx, {
        action: "file.create",
        entity_type: "file",
        entity_id: sql`new_file.file_id`,
        org_id: sql`new_file.org_id`,
        project_id: sql`new_file.project_id`,
        after: sql`jsonb_build_object('filename', new_file.filename, 'content_type', new_file.content_type, 'file_type', new_file.file_type, 'status', 'pending')`,
      }, sql`new_file`)}
    ), audited_version as (
      ${auditInsert(ctx, {
        action: "file_version.create",
        entity_type: "file_version",
        entity_id: sql`created.version_id`,
        org_id: sql`created.org_id`,
        project_id: sql`created.project_id`,
        after: sql`jsonb_build_object('file_id', created.file_id, 'upload_id', created.upload_id, 'filename', version.filename,
          'size_bytes', version.size_bytes, 'content_type', version.content_type, 'status', 'pending', 'multipart', ${plan !== null}::boolean)`,
      }, sql`created join version on version.version_id = created.version_id`)}
    )
    select exists (select 1 from target) as visible, (select status from target) as project_status,
      exists (select 1 from existing) as file_found, (select file_type from existing) as existing_file_type,
      created.upload_id, created.file_id, created.version_id, created.r2_key, ${QUOTA_COLUMNS}
    from (select 1) as one left join created on true`;
}

/** Throws why the statement created nothing, unless the reason is a quota (checked last). */
function explainRefusal(row: CreatedRow, projectId: number, input: CreateUploadInput, principalMayUpload: boolean): void {
  if (!row.visible) throw new ApiError("not_found", `Project ${projectId} does not exist.`);
  if (!principalMayUpload) forbidden();
  if (row.project_status === "archived") throw new ApiError("conflict", `Project ${projectId} is archived; restore it to a live status before uploading.`);
  if (input.file_id !== undefined && !row.file_found) throw new ApiError("not_found", `File ${input.file_id} does not exist in project ${projectId}.`);
  if (input.file_id !== undefined && row.existing_file_type !== input.file_type) {
    throw new ApiError("validation_failed", `File ${input.file_id} is a ${row.existing_file_type} file; a new version keeps its file_type.`, {
      errors: [{ path: "body.file_type", message: `must be ${row.existing_file_type}, the file's type` }],
    });
  }
}

/**
 * An Idempotency-Key is taken in the creating batch even when a quota refuses the upload.
 * A 429 is an answer to retry later, so it must not be stored and replayed to that retry:
 * the key is given back (one round trip, instead of the one that would store the answer).
 */
async function releaseIdempotencyKey(ctx: AuthenticatedContext): Promise<void> {
  const { idempotency } = ctx;
  if (!idempotency?.reserved) return;
  await ctx.db.execute(sql`delete from idempotency_key where caller = ${idempotency.caller} and key = ${idempotency.key}`);
  idempotency.reserved = false;
}

export async function createUpload(ctx: AuthenticatedContext, projectId: number, input: CreateUploadInput): Promise<SingleUploadView | MultipartUploadView> {
  const target = s3Target(ctx.config);
  checkDeclaration(ctx, input);
  const plan = input.size_bytes > ctx.config.MULTIPART_THRESHOLD_BYTES ? planParts(input.size_bytes) : null;
  const { signedAt, expiresAt } = signingClock(ctx.config.UPLOAD_URL_TTL_SECONDS);
  const [, rows = []] = await runWrite(ctx, [lockQuotaOwner(projectId), insertUpload(ctx, projectId, input, plan, expiresAt)]);
  const row = rows[0] as CreatedRow;
  if (row.upload_id === null || row.r2_key === null) {
    explainRefusal(row, projectId, input, can(ctx.principal, "file:upload"));
    const overQuota = quotaRefusal(row, input.size_bytes);
    if (!overQuota) throw new Error("upload insert refused without a known reason");
    if (overQuota.code === "rate_limited") await releaseIdempotencyKey(ctx);
    throw overQuota;
  }
  const ids = { upload_id: row.upload_id, file_id: row.file_id!, version_id: row.version_id!, expires_at: expiresAt.toISOString() };
  const key = row.r2_key;
  const contentDisposition = attachmentDisposition(input.filename);
  const expiresIn = ctx.config.UPLOAD_URL_TTL_SECONDS;

  if (!plan) {
    // If-None-Match: * is signed too: the URL can create the object but never replace it,
    // so the bytes `complete` verified are the bytes that stay (security review L-1).
    const headers = {
      "Content-Type": input.content_type,
      "Content-Length": String(input.size_bytes),
      "Content-Disposition": contentDisposition,
      "If-None-Match": "*",
    };
    const url = await presignUrl(target, {
      method: "PUT",
      operation: "PutObject",
      key,
      expiresIn,
      signedAt,
      headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
    });
    return { ...ids, method: "PUT", url, headers };
  }

  // The object's metadata is fixed when the multipart upload is created, so it carries
  // the download name and type from the start, as a single PUT's signed headers do.
  let multipartUploadId: string;
  try {
    const multipart = await ctx.config.FILES.createMultipartUpload(key, { httpMetadata: { contentType: input.content_type, contentDisposition } });
    multipartUploadId = multipart.uploadId;
  } catch (error) {
    ctx.logger.error("R2 refused to create a multipart upload", { upload_id: ids.upload_id, error: String(error) });
    throw new ApiError("service_unavailable", "File storage could not start the multipart upload; try again.");
  }
  // The idempotency key (if any) was taken with the rows above; this only records R2's id.
  await runWrite({ ...ctx, idempotency: null }, [
    sql`update upload set multipart_upload_id = ${multipartUploadId} where upload_id = ${ids.upload_id}`,
  ]);
  const parts = await Promise.all(
    Array.from({ length: plan.part_count }, async (_, index) => {
      const partNumber = index + 1;
      const url = await presignUrl(target, {
        method: "PUT",
        operation: "UploadPart",
        key,
        expiresIn,
        signedAt,
        headers: { "content-length": String(partLength(plan, partNumber)) },
        query: { partNumber: String(partNumber), uploadId: multipartUploadId },
      });
      return { part_number: partNumber, url };
    }),
  );
  return { ...ids, part_size: plan.part_size, parts };
}

// ---------------------------------------------------------------- complete

type UploadState = FileVersionRow & {
  upload_id: number;
  upload_status: "pending" | "completed" | "aborted";
  expired: boolean;
  upload_expires_at: string;
  object_key: string;
  multipart_upload_id: string | null;
  part_size: number | null;
  declared_size: number | string;
  declared_sha256: string | null;
  hashed_etag: string | null;
  hashed_sha256: string | null;
  /** This request holds the hashing lease (only taken when a SHA-256 was declared). */
  claimed: boolean;
  /** Seconds left on a lease another request holds; null or ≤ 0 when none. */
  lease_seconds_left: number | null;
};

export type CompleteUploadInput = { parts?: { part_number: number; etag: string }[] | undefined };

/**
 * A request hashing an object holds the upload this long; it covers hashing the largest
 * object within the Worker's CPU limit (wrangler.toml, 300 s, ~1.5 s per GiB). If the
 * request dies, another may take over once it has run out.
 */
const HASH_LEASE_SECONDS = 300;
/** For Retry-After while another request hashes: reading and hashing, with margin. */
const HASH_BYTES_PER_SECOND = 256 * 1024 * 1024;

/**
 * One statement: the upload as the caller sees it and — when a SHA-256 is to be checked,
 * the caller may upload, the upload is still open and no other request holds it — the
 * hashing lease. The UPDATE re-checks the lease on the locked row, so of two concurrent
 * completes exactly one gets it; the other answers 409 rather than hash the object again.
 */
async function claimUpload(ctx: AuthenticatedContext, uploadId: number): Promise<UploadState | undefined> {
  const result = await ctx.db.execute(sql`
    with found as (
      select u.upload_id, u.status as upload_status, u.expires_at <= now() as expired, u.expires_at as upload_expires_at,
        u.r2_key as object_key, u.multipart_upload_id, u.part_size, u.size_bytes as declared_size, u.sha256 as declared_sha256,
        u.hashed_etag, u.hashed_sha256, ceil(extract(epoch from u.verify_lease_until - now()))::integer as lease_seconds_left,
        ${VERSION_COLUMNS}
      from upload u
      join project p on p.project_id = u.project_id and p.deleted_at is null
      join file f on f.file_id = u.file_id and f.deleted_at is null
      join file_version fv on fv.version_id = u.version_id
      where u.upload_id = ${uploadId} and ${projectVisible(ctx.principal, "p")}
    ), claimed as (
      update upload u set verify_lease_until = now() + make_interval(secs => ${HASH_LEASE_SECONDS})
      from found
      where u.upload_id = found.upload_id and ${can(ctx.principal, "file:upload")}::boolean
        and u.status = 'pending' and u.expires_at > now() and u.sha256 is not null
        and (u.part_size is null or u.multipart_upload_id is not null)
        and (u.verify_lease_until is null or u.verify_lease_until <= now())
      returning u.upload_id
    )
    select found.*, exists (select 1 from claimed) as claimed from found`);
  return result.rows[0] as UploadState | undefined;
}

/**
 * Gives the lease back; after a hash that did not match, records which object (ETag) it
 * was and what it hashed to, with an audit row, so a retry on the same object answers
 * without hashing it again.
 */
async function releaseUpload(ctx: AuthenticatedContext, upload: UploadState, hashed: HashedObject | null): Promise<void> {
  if (!hashed) {
    await ctx.db.execute(sql`update upload set verify_lease_until = null where upload_id = ${upload.upload_id} and status = 'pending'`);
    return;
  }
  await ctx.db.execute(sql`
    with released as (
      update upload set verify_lease_until = null, hashed_etag = ${hashed.etag}, hashed_sha256 = ${hashed.sha256}
      where upload_id = ${upload.upload_id} and status = 'pending'
      returning upload_id, version_id, project_id, org_id, sha256
    ), audited as (
      ${auditInsert(ctx, {
        action: "file_version.verify_failed",
        entity_type: "file_version",
        entity_id: sql`released.version_id`,
        org_id: sql`released.org_id`,
        project_id: sql`released.project_id`,
        after: sql`jsonb_build_object('upload_id', released.upload_id, 'declared_sha256', released.sha256,
          'stored_sha256', ${hashed.sha256}::text, 'bytes_removed', ${hashed.removed}::boolean)`,
      }, sql`released`)}
    )
    select upload_id from released`);
}

function completionInProgress(upload: UploadState): never {
  const estimate = Math.ceil(Number(upload.declared_size) / HASH_BYTES_PER_SECOND) + 1;
  const seconds = Math.max(1, Math.min(upload.lease_seconds_left ?? 1, estimate));
  throw new ApiError("conflict", `Upload ${upload.upload_id} is being completed by another request, which is verifying its SHA-256; retry in ${seconds} s.`, {
    headers: { "Retry-After": String(seconds) },
  });
}

/** The parts list of a multipart upload must be exactly parts 1…N, each once (N from the part size it was cut with). */
function checkParts(upload: UploadState, input: CompleteUploadInput): R2UploadedPart[] {
  const partCount = Math.ceil(Number(upload.declared_size) / upload.part_size!);
  const parts = input.parts ?? [];
  const numbers = parts.map((part) => part.part_number).sort((a, b) => a - b);
  const complete = numbers.length === partCount && numbers.every((number, index) => number === index + 1);
  if (!complete) {
    throw new ApiError("validation_failed", `This multipart upload has ${partCount} parts; list each of them once with its ETag.`, {
      errors: [{ path: "body.parts", message: `must list part_number 1 to ${partCount}, each once` }],
    });
  }
  // Storage answers ETags quoted ("…"); R2's binding wants them bare, and the parts in order.
  return parts
    .map((part) => ({ partNumber: part.part_number, etag: part.etag.replace(/^(W\/)?"|"$/g, "") }))
    .sort((a, b) => a.partNumber - b.partNumber);
}

async function assembleMultipart(ctx: AuthenticatedContext, upload: UploadState, parts: R2UploadedPart[]): Promise<void> {
  const bucket = ctx.config.FILES;
  // A previous complete may have assembled the object and then failed a check.
  if (await bucket.head(upload.object_key)) return;
  try {
    await bucket.resumeMultipartUpload(upload.object_key, upload.multipart_upload_id!).complete(parts);
  } catch (error) {
    // A concurrent complete may have won the race; the object is what matters.
    if (await bucket.head(upload.object_key)) return;
    throw new ApiError("validation_failed", `Storage could not assemble the parts: ${error instanceof Error ? error.message : String(error)}.`, {
      errors: [{ path: "body.parts", message: "must carry the ETag storage answered each part's PUT with" }],
    });
  }
}

type HashedObject = { etag: string; sha256: string; removed: boolean };

/**
 * Size, then (when declared) the SHA-256 of the stored bytes: hashed here, unless this
 * very object (same ETag) was hashed by an earlier complete that found a mismatch.
 * Answers what was hashed, or null when no SHA-256 was declared.
 */
async function verifyObject(ctx: AuthenticatedContext, upload: UploadState): Promise<HashedObject | null> {
  const object = await ctx.config.FILES.head(upload.object_key);
  if (!object) {
    const refused = upload.hashed_sha256 === null ? "" : ` (the bytes PUT before had the SHA-256 ${upload.hashed_sha256} and were removed)`;
    throw new ApiError("conflict", `Nothing has been uploaded for upload ${upload.upload_id} yet${refused}; PUT the bytes to its presigned URL(s) first.`);
  }
  const declared = Number(upload.declared_size);
  if (object.size !== declared) {
    throw new ApiError("validation_failed", `The stored file has ${object.size} bytes, but the upload declared ${declared}.`, {
      errors: [{ path: "size_bytes", message: `declared ${declared}, stored ${object.size}` }],
    });
  }
  if (!upload.declared_sha256) return null;
  const known = upload.hashed_etag === object.etag ? upload.hashed_sha256 : null;
  const sha256 = known ?? (await objectSha256(ctx.config.FILES, upload.object_key));
  if (sha256 === null) throw new ApiError("conflict", `The bytes of upload ${upload.upload_id} disappeared while being verified; PUT them again.`);
  return { etag: object.etag, sha256, removed: false };
}

/**
 * One batch (one transaction): lock the file row, so concurrent completes of versions
 * of one file take turns; then, only if the upload is still pending, number the version
 * max + 1 (the statement starts after the lock is granted, so it sees the other
 * versions' numbers), mark it ready and queued, make it the file's current version and
 * audit it; then read the version as it now stands.
 */
function markReady(ctx: AuthenticatedContext, upload: UploadState): SQL[] {
  return [
    sql`select file_id from file where file_id = ${upload.file_id} for update`,
    sql`with completed as (
        update upload set status = 'completed', completed_at = now(), verify_lease_until = null
        where upload_id = ${upload.upload_id} and status = 'pending'
        returning upload_id, version_id, file_id, project_id, org_id
      ), numbered as (
        update file_version fv set
          version_number = (select coalesce(max(other.version_number), 0) + 1 from file_version other where other.file_id = fv.file_id),
          status = 'ready', parse_status = 'queued', completed_at = now(), updated_at = now()
        from completed where fv.version_id = completed.version_id
        returning fv.version_id, fv.file_id, fv.version_number, completed.upload_id, completed.project_id, completed.org_id
      ), made_current as (
        update file f set current_version_id = numbered.version_id, updated_at = now(),
          status = case when f.status = 'pending' then 'ready_for_annotation'::file_status else f.status end
        from numbered where f.file_id = numbered.file_id
        returning f.file_id
      ), audited as (
        ${auditInsert(ctx, {
          action: "file_version.complete",
          entity_type: "file_version",
          entity_id: sql`numbered.version_id`,
          org_id: sql`numbered.org_id`,
          project_id: sql`numbered.project_id`,
          before: sql`jsonb_build_object('status', 'pending', 'version_number', null, 'parse_status', null)`,
          after: sql`jsonb_build_object('status', 'ready', 'version_number', numbered.version_number, 'parse_status', 'queued',
            'upload_id', numbered.upload_id)`,
        }, sql`numbered`)}
      )
      select version_id from numbered`,
    sql`select u.status as upload_status, ${VERSION_COLUMNS}
      from upload u join file_version fv on fv.version_id = u.version_id where u.upload_id = ${upload.upload_id}`,
  ];
}

export async function completeUpload(ctx: AuthenticatedContext, uploadId: number, input: CompleteUploadInput): Promise<FileVersionView> {
  const upload = await claimUpload(ctx, uploadId);
  if (!upload) throw new ApiError("not_found", `Upload ${uploadId} does not exist.`);
  if (!can(ctx.principal, "file:upload")) forbidden();
  if (upload.upload_status === "completed") return presentFileVersion(upload);
  if (upload.upload_status === "aborted") throw new ApiError("conflict", `Upload ${uploadId} was aborted; start a new upload.`);
  if (upload.expired) {
    throw new ApiError("conflict", `Upload ${uploadId} expired at ${new Date(upload.upload_expires_at).toISOString()}; start a new upload.`);
  }
  if (upload.multipart_upload_id === null && upload.part_size !== null) {
    throw new ApiError("conflict", `Upload ${uploadId} never got its multipart upload from storage; start a new upload.`);
  }
  if (upload.declared_sha256 !== null && !upload.claimed) completionInProgress(upload);

  let hashed: HashedObject | null;
  try {
    if (upload.multipart_upload_id !== null) {
      await assembleMultipart(ctx, upload, checkParts(upload, input));
    } else if (input.parts !== undefined) {
      throw new ApiError("validation_failed", `Upload ${uploadId} is a single PUT; parts are for multipart uploads.`, {
        errors: [{ path: "body.parts", message: "must be absent for a single-PUT upload" }],
      });
    }
    hashed = await verifyObject(ctx, upload);
  } catch (error) {
    if (upload.claimed) await releaseUpload(ctx, upload, null);
    throw error;
  }

  if (hashed && hashed.sha256 !== upload.declared_sha256) {
    // A single PUT's URL may create the object but never replace it (If-None-Match: *), so
    // the wrong bytes are removed, still under the lease, for the same URL to take the
    // right ones. A multipart object cannot be sent again: its parts are spent.
    if (upload.multipart_upload_id === null) {
      await ctx.config.FILES.delete(upload.object_key);
      hashed.removed = true;
    }
    await releaseUpload(ctx, upload, hashed);
    const next = hashed.removed ? "PUT the right bytes to the same URL, then complete again" : "start a new upload";
    throw new ApiError("validation_failed", `The stored file's SHA-256 is ${hashed.sha256}, but the upload declared ${upload.declared_sha256}; ${next}.`, {
      errors: [{ path: "sha256", message: "does not match the stored bytes" }],
    });
  }

  const [, transitioned = [], current = []] = await runWrite(ctx, markReady(ctx, upload));
  const row = current[0] as (FileVersionRow & { upload_status: string }) | undefined;
  if (!row) throw new ApiError("not_found", `Upload ${uploadId} does not exist.`);
  if (transitioned.length > 0) {
    try {
      await sendParseMessages(ctx.config.PARSE_QUEUE, [row.version_id]);
    } catch (error) {
      // The version is ready either way; the scheduled sweep re-sends parse messages of
      // versions left queued (uploads.cleanup.ts), and the consumer is idempotent.
      ctx.logger.error("could not queue the parse of a completed upload", { version_id: row.version_id, error: String(error) });
    }
  }
  return presentFileVersion(row);
}

// ---------------------------------------------------------------- download

type DownloadRow = { status: string; r2_key: string; filename: string };

export async function downloadFileVersion(ctx: AuthenticatedContext, versionId: number): Promise<{ url: string; expires_at: string }> {
  const target = s3Target(ctx.config);
  const result = await ctx.db.execute(sql`
    select fv.status, fv.r2_key, fv.filename from file_version fv
    join file f on f.file_id = fv.file_id and f.deleted_at is null
    join project p on p.project_id = f.project_id and p.deleted_at is null
    where fv.version_id = ${versionId} and ${fileVisible(ctx.principal, "f")}`);
  const row = result.rows[0] as DownloadRow | undefined;
  if (!row) throw new ApiError("not_found", `File version ${versionId} does not exist.`);
  if (!can(ctx.principal, "file:read")) throw new ApiError("forbidden", "Your role does not allow reading files (file:read is required).");
  if (row.status !== "ready") throw new ApiError("conflict", `File version ${versionId} has no bytes yet: its upload has not been completed.`);
  const { signedAt, expiresAt } = signingClock(ctx.config.DOWNLOAD_URL_TTL_SECONDS);
  const url = await presignUrl(target, {
    method: "GET",
    operation: "GetObject",
    key: row.r2_key,
    expiresIn: ctx.config.DOWNLOAD_URL_TTL_SECONDS,
    signedAt,
    query: { "response-content-disposition": attachmentDisposition(row.filename) },
  });
  return { url, expires_at: expiresAt.toISOString() };
}
