/**
 * Presigned uploads: bytes go from the client straight to R2; the API hands out signed
 * URLs, then verifies what arrived (uploads.complete.ts). Round trips: creating an upload
 * is 1 (one batch: lock the organization's row for its quotas, then the access check,
 * quota check, file, version, upload and audit rows in one statement; a multipart upload
 * adds 1 to record R2's upload id, which R2 assigns only once the object key exists);
 * a download URL is 1.
 */
import { sql, type SQL } from "drizzle-orm";
import type { fileType } from "../../db/schema/enums.ts";
import { fileVisible, projectVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { runWrite } from "../../lib/write.ts";
import { attachmentDisposition } from "../../storage/content-disposition.ts";
import { partLength, planParts, type PartPlan } from "../../storage/multipart.ts";
import { presignUrl } from "../../storage/presign.ts";
import { s3Target } from "../../storage/s3-target.ts";
import { can } from "../auth/principal.ts";
import { lockQuotaOwner, QUOTA_COLUMNS, quotaCheck, quotaRefusal, type QuotaRow } from "./upload-quotas.ts";

export type CreateUploadInput = {
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256?: string | undefined;
  file_type: (typeof fileType.enumValues)[number];
  file_id?: number | undefined;
  target_table_id?: number | undefined;
};

type UploadIds = { upload_id: number; file_id: number; version_id: number; expires_at: string };
export type SingleUploadView = UploadIds & { method: "PUT"; url: string; headers: Record<string, string> };
export type MultipartUploadView = UploadIds & { part_size: number; parts: { part_number: number; url: string }[] };

// The file_version columns answers show (never r2_key or parse_cursor).
export const VERSION_COLUMNS = sql.raw(
  ["version_id", "file_id", "version_number", "filename", "size_bytes", "sha256", "content_type", "status", "parse_status",
    "parse_progress_done", "parse_progress_total", "parse_error", "uploaded_by", "created_at", "updated_at", "completed_at"]
    .map((column) => `fv.${column}`).join(", "),
);

export function forbidden(): never {
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
  import_table_found: boolean;
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
    ), import_table as (
      -- An llm_output file's target table: one the caller sees, in the project's organization.
      select it.table_id from file_table it
      join file_version itv on itv.version_id = it.version_id
      join file itf on itf.file_id = itv.file_id and itf.deleted_at is null
      join target t on t.org_id = itf.org_id
      where it.table_id = ${input.target_table_id ?? null}::integer and it.state <> 'building' and ${fileVisible(principal, "itf")}
    ), quota as (
      ${quotaCheck(ctx, input.size_bytes)}
    ), permitted as (
      select t.project_id, t.org_id from target t
      where ${can(principal, "file:upload")}::boolean and t.status <> 'archived'
        and (${fileId}::integer is null or exists (select 1 from existing e where e.file_type = ${input.file_type}::file_type))
        and coalesce((select fits from quota), false)
        and (${input.target_table_id ?? null}::integer is null or exists (select 1 from import_table))
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
    ), import_created as (
      insert into suggestion_import (version_id, target_table_id)
      select v.version_id, it.table_id from version v cross join import_table it
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
      exists (select 1 from import_table) as import_table_found,
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
  if (input.target_table_id !== undefined && !row.import_table_found) {
    throw new ApiError("validation_failed", `Table ${input.target_table_id} does not exist in this organization.`, {
      errors: [{ path: "body.target_table_id", message: "must be a parsed table you can see, in the project's organization" }],
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
    // so the bytes `complete` verified are the bytes that stay (security review L-1). R2
    // honours it on PutObject (developers.cloudflare.com/r2/api/s3/conditional-operations/),
    // as does the local S3 endpoint the tests PUT to.
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
