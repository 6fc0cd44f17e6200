import { z } from "@hono/zod-openapi";
import { fileStatus, fileType, language } from "../../db/schema/enums.ts";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema, sortSchema } from "../../lib/pagination.ts";
import { includeDeletedQuery } from "../../lib/query-params.ts";
import { pathId, protectedRoute } from "../../lib/routes.ts";
import { FileSchema, FileVersionSchema } from "./files.presenters.ts";

const TAG = "Files";

const ifMatchHeader = z.object({
  "if-match": z.string().optional().openapi({ description: "The ETag as you last read it; the change is refused with 412 if it has changed since." }),
});

const etagHeader = (what: string) => ({ ETag: { description: `The ${what}'s version, for If-Match.`, schema: { type: "string" as const } } });

/** `pending` is the system's own state (no completed upload yet); people move files between the others. */
const SETTABLE_FILE_STATUSES = fileStatus.enumValues.filter((status) => status !== "pending") as [
  Exclude<(typeof fileStatus.enumValues)[number], "pending">,
  ...Exclude<(typeof fileStatus.enumValues)[number], "pending">[],
];

export const listProjectFiles = protectedRoute({
  method: "get",
  path: "/projects/{project_id}/files",
  operationId: "listProjectFiles",
  tags: [TAG],
  summary: "List a project's files",
  request: {
    params: z.object({ project_id: pathId("project_id") }),
    query: z.object({
      limit: limitSchema,
      cursor: cursorSchema,
      sort: sortSchema(["filename", "created_at", "updated_at"], "-created_at"),
      file_type: z.enum(fileType.enumValues).optional(),
      status: z.enum(fileStatus.enumValues).optional(),
      include_deleted: includeDeletedQuery,
    }),
  },
  responses: { 200: { description: "A page of files.", content: { "application/json": { schema: pageSchema(FileSchema) } } } },
});

export const getFile = protectedRoute({
  method: "get",
  path: "/files/{file_id}",
  operationId: "getFile",
  tags: [TAG],
  summary: "Get a file's metadata",
  request: { params: z.object({ file_id: pathId("file_id") }), query: z.object({ include_deleted: includeDeletedQuery }) },
  responses: { 200: { description: "The file.", headers: etagHeader("file"), content: { "application/json": { schema: FileSchema } } } },
});

export const updateFile = protectedRoute({
  method: "patch",
  path: "/files/{file_id}",
  operationId: "updateFile",
  tags: [TAG],
  summary: "Rename a file, set its status or language",
  description: "Send only the fields to change. A request that changes nothing answers the file as it is and records no event.",
  request: {
    params: z.object({ file_id: pathId("file_id") }),
    headers: ifMatchHeader,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.strictObject({
            filename: z.string().trim().min(1).max(255).optional(),
            status: z.enum(SETTABLE_FILE_STATUSES).optional().openapi({ description: "Any status but `pending`, which only the upload flow sets." }),
            language: z.enum(language.enumValues).nullable().optional(),
          }),
        },
      },
    },
  },
  responses: {
    200: { description: "The updated file.", headers: etagHeader("file"), content: { "application/json": { schema: FileSchema } } },
    ...problem("precondition_failed", "If-Match is stale."),
  },
});

export const deleteFile = protectedRoute({
  method: "delete",
  path: "/files/{file_id}",
  operationId: "deleteFile",
  tags: [TAG],
  summary: "Delete a file (soft)",
  request: { params: z.object({ file_id: pathId("file_id") }), headers: ifMatchHeader },
  responses: { 204: { description: "Deleted." }, ...problem("precondition_failed", "If-Match is stale.") },
});

export const listFileVersions = protectedRoute({
  method: "get",
  path: "/files/{file_id}/versions",
  operationId: "listFileVersions",
  tags: [TAG],
  summary: "List a file's versions, pending uploads included",
  request: {
    params: z.object({ file_id: pathId("file_id") }),
    query: z.object({ limit: limitSchema, cursor: cursorSchema, sort: sortSchema(["created_at"], "-created_at") }),
  },
  responses: { 200: { description: "A page of versions.", content: { "application/json": { schema: pageSchema(FileVersionSchema) } } } },
});

export const getFileVersion = protectedRoute({
  method: "get",
  path: "/file-versions/{version_id}",
  operationId: "getFileVersion",
  tags: [TAG],
  summary: "Get a file version, with its parse status and progress",
  request: { params: z.object({ version_id: pathId("version_id") }) },
  responses: {
    200: { description: "The version.", headers: etagHeader("version"), content: { "application/json": { schema: FileVersionSchema } } },
  },
});
