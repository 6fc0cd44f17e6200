import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { jsonBody, protectedRoute } from "../../lib/routes.ts";
import { jobParams } from "../annotation-jobs/annotation-jobs.routes.ts";

const TAG = "Reviews";

const itemParams = jobParams.extend({
  row_index: z.coerce.number().int().min(0).max(2_147_483_647).openapi({ param: { name: "row_index", in: "path" } }),
});

const verdict = z.enum(["accepted", "rejected"]);

const stage = z.enum(["review", "qc"]).openapi({ description: "`qc` for a verdict given while the job awaited QC, else `review`." });

export const ItemReviewSchema = z
  .object({
    verdict,
    stage: stage,
    reason: z.string().nullable(),
    reviewer_id: z.number().int().nullable(),
    returned: z.boolean().openapi({ description: "The job's rejection sent this row back to its annotators; they redo it before resubmitting." }),
    updated_at: z.string(),
  })
  .openapi("ItemReview", { description: "The review's verdict on the row; null while it has none." });

export const RowReviewSchema = z
  .object({
    job_id: z.number().int(),
    row_index: z.number().int(),
    verdict,
    stage,
    reason: z.string().nullable(),
    reviewer_id: z.number().int().nullable(),
    rejections: z.number().int().openapi({ description: "How many times the row has been rejected." }),
    returned: z.boolean().openapi({ description: "Sent back by the job's last rejection and not given a verdict since." }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("RowReview");

export const setRowReview = protectedRoute({
  method: "put",
  path: "/annotation-jobs/{job_id}/items/{row_index}/review",
  operationId: "setRowReview",
  tags: [TAG],
  summary: "Accept or reject one row of a submitted job, or of a job awaiting QC",
  description:
    "By a reviewer or qc assigned to the job, the project's pm or a platform admin, while the job is `submitted`; while it is " +
    "`awaiting_qc`, by its qc, the pm or an admin (stage `qc`: QC accepts the rows of its sample before approving). 409 otherwise. " +
    "A later PUT replaces the verdict. Rejecting the job (`POST …/reviews {status: rejected}`) then sends back only the rejected rows, " +
    "with their `reason` shown to the annotators on the items (`GET …/items?review=rejected`); accepted rows are final. A job with " +
    "rejected rows cannot be approved. 404 when the row is outside the job's range. 201 for the row's first verdict, 200 after.",
  request: {
    params: itemParams,
    body: jsonBody(z.strictObject({
      verdict,
      reason: z.string().trim().max(10_000).nullable().optional().openapi({ description: "What is wrong (or right) with the row; the annotators see it." }),
    })),
  },
  responses: {
    200: { description: "The verdict, replaced.", content: { "application/json": { schema: RowReviewSchema } } },
    201: { description: "The row's first verdict.", content: { "application/json": { schema: RowReviewSchema } } },
    ...problem("conflict", "The job is neither submitted nor awaiting QC."),
  },
});
