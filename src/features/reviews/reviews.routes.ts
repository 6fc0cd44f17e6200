import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { jsonBody, protectedRoute } from "../../lib/routes.ts";
import { jobParams } from "../annotation-jobs/annotation-jobs.routes.ts";

const TAG = "Reviews";

export const ReviewSchema = z
  .object({
    review_id: z.number().int(),
    job_id: z.number().int(),
    reviewer_id: z.number().int().nullable(),
    status: z.enum(["approved", "rejected"]),
    comments: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Review");

export const createReview = protectedRoute({
  method: "post",
  path: "/annotation-jobs/{job_id}/reviews",
  operationId: "createReview",
  tags: [TAG],
  summary: "Approve or reject a submitted job",
  description:
    "By a reviewer or qc assigned to the job, the project's pm, or a platform admin; only while the job is `submitted` (409 otherwise). " +
    "`approved` makes the job `reviewed` (final; its annotations become the delivered result); 409 while any row has a rejected verdict. " +
    "`rejected` sends it back to `in_progress` for the annotators, and needs `comments` saying what to fix (the job shows them as " +
    "`latest_review`). With row verdicts (`PUT …/items/{row_index}/review`) only the rejected rows go back: the annotators see them " +
    "with their reasons at `GET …/items?review=rejected`, may change only those, and resubmit once they have saved each again.",
  request: {
    params: jobParams,
    body: jsonBody(z
      .strictObject({
        status: z.enum(["approved", "rejected"]),
        comments: z.string().trim().max(20_000).nullable().optional(),
      })
      .refine((body) => body.status !== "rejected" || (body.comments ?? "").length > 0, {
        message: "a rejection needs comments saying what to fix",
        path: ["comments"],
      })),
  },
  responses: {
    201: { description: "The review; the job has moved.", content: { "application/json": { schema: ReviewSchema } } },
    ...problem("conflict", "The job is not submitted, or the Idempotency-Key is in use."),
  },
});

export const listReviews = protectedRoute({
  method: "get",
  path: "/annotation-jobs/{job_id}/reviews",
  operationId: "listReviews",
  tags: [TAG],
  summary: "A job's reviews, oldest first",
  request: { params: jobParams, query: z.object({ limit: limitSchema, cursor: cursorSchema }) },
  responses: { 200: { description: "A page of reviews.", content: { "application/json": { schema: pageSchema(ReviewSchema) } } } },
});
