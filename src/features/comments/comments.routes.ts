import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { jsonBody, protectedRoute } from "../../lib/routes.ts";
import { jobParams } from "../annotation-jobs/annotation-jobs.routes.ts";

const TAG = "Comments";

export const CommentSchema = z
  .object({
    comment_id: z.number().int(),
    job_id: z.number().int(),
    parent_comment_id: z.number().int().nullable().openapi({ description: "The comment this one replies to; null for a thread's first comment." }),
    author_id: z.number().int().nullable(),
    body: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Comment");

export const createComment = protectedRoute({
  method: "post",
  path: "/annotation-jobs/{job_id}/comments",
  operationId: "createComment",
  tags: [TAG],
  summary: "Comment on a job, or reply to one of its comments",
  description: "Platform people who see the job (its pm, its assignees, admins) may comment; clients read the threads.",
  request: {
    params: jobParams,
    body: jsonBody(z.strictObject({
      body: z.string().trim().min(1).max(10_000),
      parent_comment_id: z.number().int().positive().nullable().optional().openapi({ description: "A comment of the same job to reply to." }),
    })),
  },
  responses: {
    201: { description: "The comment.", content: { "application/json": { schema: CommentSchema } } },
    ...problem("conflict", "The Idempotency-Key is in use."),
  },
});

export const listComments = protectedRoute({
  method: "get",
  path: "/annotation-jobs/{job_id}/comments",
  operationId: "listComments",
  tags: [TAG],
  summary: "A job's comments, oldest first (threads by parent_comment_id)",
  description:
    "Visible to everyone who can see the job. The list is flat, in the order the comments were written; `parent_comment_id` links a reply to its parent, " +
    "so a thread is a comment and every comment whose parent chain leads to it. `?parent_comment_id=` lists one comment's direct replies.",
  request: {
    params: jobParams,
    query: z.object({
      limit: limitSchema,
      cursor: cursorSchema,
      parent_comment_id: z.coerce.number().int().positive().optional().openapi({ description: "Only the direct replies to this comment." }),
    }),
  },
  responses: { 200: { description: "A page of comments.", content: { "application/json": { schema: pageSchema(CommentSchema) } } } },
});
