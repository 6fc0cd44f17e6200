import { z } from "@hono/zod-openapi";
import { fileType } from "../../db/schema/enums.ts";
import { problem } from "../../lib/openapi-responses.ts";
import { protectedRoute } from "../../lib/routes.ts";
import { FileVersionSchema } from "../files/files.presenters.ts";
import { sanitizeFilename } from "./filename.ts";

const TAG = "Uploads";

const sha256Hex = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hexadecimal characters")
  .transform((value) => value.toLowerCase())
  .openapi({ description: "SHA-256 of the whole file, hex. When given, `complete` verifies the stored bytes against it.", example: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" });

const CreateUploadBody = z
  .object({
    filename: z
      .string()
      .max(255)
      .transform(sanitizeFilename)
      .refine((name) => name.length > 0, "must name a file")
      .openapi({ description: "The file's name, kept for display and downloads only; any path part is dropped.", example: "survey-2026.csv" }),
    content_type: z
      .string()
      .trim()
      .max(255)
      .regex(/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\\]*"|[A-Za-z0-9!#$&^_.+-]+))*$/, "must be a media type such as text/csv")
      .openapi({ description: "The media type the client will send as Content-Type (signed into the URL). Must be one the deployment accepts.", example: "text/csv" }),
    size_bytes: z.number().int().min(1).openapi({ description: "Exact size in bytes (signed into the URL; `complete` checks it).", example: 1048576 }),
    sha256: sha256Hex.optional(),
    file_type: z.enum(fileType.enumValues),
    file_id: z.number().int().positive().optional().openapi({ description: "Upload a new version of this file (same project and file_type) instead of creating a file." }),
    target_table_id: z.number().int().positive().max(2_147_483_647).optional().openapi({
      description: "For `llm_output` files (and only them, where it is required): the table whose rows the file's suggestions are for. " +
        "The parse imports them (JSON Lines `{row_index, question, value, score?, agent}`); see GET /file-versions/{version_id}/suggestion-import.",
    }),
  })
  .superRefine((body, ctx) => {
    if (body.file_type === "llm_output" && body.target_table_id === undefined) {
      ctx.addIssue({ code: "custom", path: ["target_table_id"], message: "is required for an llm_output file: the table its suggestions are for" });
    }
    if (body.file_type !== "llm_output" && body.target_table_id !== undefined) {
      ctx.addIssue({ code: "custom", path: ["target_table_id"], message: "is only for llm_output files" });
    }
  })
  .openapi("CreateUpload");

const uploadCommon = {
  upload_id: z.number().int(),
  file_id: z.number().int(),
  version_id: z.number().int(),
  expires_at: z.string().openapi({ description: "The URLs stop working, and the upload can no longer be completed, at this time." }),
};

const SingleUploadSchema = z
  .object({
    ...uploadCommon,
    method: z.literal("PUT"),
    url: z.string().openapi({ description: "Presigned URL: PUT the file's bytes here." }),
    headers: z
      .record(z.string(), z.string())
      .openapi({ description: "Send exactly these headers with the PUT (they are signed; browsers set Content-Length themselves)." }),
  })
  .openapi("SingleUpload");

const MultipartUploadSchema = z
  .object({
    ...uploadCommon,
    part_size: z.number().int().openapi({ description: "Every part but the last has exactly this many bytes; the last has the rest." }),
    parts: z
      .array(z.object({ part_number: z.number().int(), url: z.string().openapi({ description: "Presigned URL: PUT this part's bytes here and keep the ETag header of the answer." }) }))
      .openapi({ description: "One presigned PUT URL per part, in order." }),
  })
  .openapi("MultipartUpload");

export const createUpload = protectedRoute({
  method: "post",
  path: "/projects/{project_id}/uploads",
  operationId: "createUpload",
  tags: [TAG],
  summary: "Start an upload: presigned URL(s) to send the bytes straight to storage",
  description:
    "Creates the file (or, with `file_id`, a new version of it) in state pending and answers with where to PUT the bytes: " +
    "one presigned URL, or above the multipart threshold one URL per part. Then call `POST /uploads/{upload_id}/complete`. " +
    "The single PUT's URL carries `If-None-Match: *`: it creates the object and can never replace it. " +
    "Quotas per organization apply: `open_uploads`, `upload_bytes_per_day` and `stored_bytes`.",
  request: {
    params: z.object({ project_id: z.coerce.number().int().positive() }),
    body: { required: true, content: { "application/json": { schema: CreateUploadBody } } },
  },
  responses: {
    201: {
      description: "The upload, with its presigned URL(s).",
      content: { "application/json": { schema: z.union([SingleUploadSchema, MultipartUploadSchema]) } },
    },
    ...problem("forbidden", "The caller may see the project but not upload there, or the organization's `open_uploads` quota is 0."),
    ...problem("conflict", "The project is archived."),
    ...problem("payload_too_large",
      "The declared size is above the per-file limit, would take the organization above its `stored_bytes` quota, or alone exceeds its " +
      "`upload_bytes_per_day` quota. The detail names the quota, its limit and the current use."),
    ...problem("rate_limited",
      "The organization is at its `open_uploads` quota, or this upload would take it above its `upload_bytes_per_day` quota (a rolling " +
      "24 hours). `Retry-After` says when it fits again (the next expiry; the oldest uploads leaving the window). The detail names the " +
      "quota, its limit and the current use."),
    ...problem("service_unavailable", "File storage is not configured or not reachable."),
  },
});

const CompleteUploadBody = z
  .object({
    parts: z
      .array(z.object({ part_number: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) }))
      .max(10_000)
      .optional()
      .openapi({ description: "Multipart uploads only: every part, with the ETag storage answered its PUT with." }),
  })
  .openapi("CompleteUpload");

export const completeUpload = protectedRoute({
  method: "post",
  path: "/uploads/{upload_id}/complete",
  operationId: "completeUpload",
  tags: [TAG],
  summary: "Finish an upload: verify the stored bytes, number the version, queue parsing",
  description:
    "Checks the object is in storage with the declared size (and SHA-256 when one was declared), marks the version ready " +
    "with the next version number and queues it for parsing. Completing again answers the same version and does nothing else. " +
    "An object is hashed at most once: while one request verifies it, others answer 409 with `Retry-After`; after a SHA-256 " +
    "mismatch a single PUT's bytes are removed so the same URL can take the right ones, and a retry on unchanged bytes is not hashed again.",
  request: {
    params: z.object({ upload_id: z.coerce.number().int().positive() }),
    body: { required: false, content: { "application/json": { schema: CompleteUploadBody } } },
  },
  responses: {
    200: { description: "The ready file version.", content: { "application/json": { schema: FileVersionSchema } } },
    ...problem("conflict", "The upload expired, its bytes have not been uploaded yet, or another request is verifying them (with `Retry-After`)."),
    ...problem("validation_failed", "The stored bytes do not have the declared size or SHA-256, or the parts list is wrong."),
    ...problem("service_unavailable", "File storage is not configured or not reachable."),
  },
});

export const downloadFileVersion = protectedRoute({
  method: "get",
  path: "/file-versions/{version_id}/download",
  operationId: "downloadFileVersion",
  tags: [TAG],
  summary: "A short-lived presigned URL to download a version's bytes",
  request: { params: z.object({ version_id: z.coerce.number().int().positive() }) },
  responses: {
    200: {
      description: "GET the URL before `expires_at`; the answer names the original file in Content-Disposition.",
      content: {
        "application/json": {
          schema: z.object({ url: z.string(), expires_at: z.string() }).openapi("FileVersionDownload"),
        },
      },
    },
    ...problem("conflict", "The version's upload has not been completed."),
    ...problem("service_unavailable", "File storage is not configured."),
  },
});
