import { z } from "@hono/zod-openapi";
import { protectedRoute } from "../../lib/routes.ts";
import { jobParams } from "../annotation-jobs/annotation-jobs.routes.ts";
import { JobStatusSchema } from "../annotation-jobs/annotation-jobs.presenters.ts";
import { ItemReviewSchema } from "../row-reviews/row-reviews.routes.ts";

const TAG = "Reviews";

export const QcSampleSchema = z
  .object({
    job_id: z.number().int(),
    status: JobStatusSchema,
    sample_rate: z.number().nullable().openapi({
      description: "The project's qc_sample_rate as the job froze it when a reviewer's approval sent it to QC; null when it has not been to QC.",
    }),
    rows: z.array(z.object({
      row_index: z.number().int(),
      review: ItemReviewSchema.nullable(),
      checked: z.boolean().openapi({ description: "QC accepted the row (a verdict given while the job awaited QC)." }),
    })).openapi({ description: "The sampled rows, by row_index: ceil(sample_rate × rows) of the job's range, drawn deterministically (README)." }),
  })
  .openapi("QcSample");

export const getQcSample = protectedRoute({
  method: "get",
  path: "/annotation-jobs/{job_id}/qc-sample",
  operationId: "getQcSample",
  tags: [TAG],
  summary: "The rows QC checks before approving the job",
  description:
    "For the job's reviewers and qc, the project's pm and platform admins (403 to its annotators and clients). The same rows on every " +
    "call: the first ceil(rate × rows) rows ordered by md5(\"<job_id>:<row_index>\"). A qc user (or the pm, or an admin) accepts each " +
    "with `PUT …/items/{row_index}/review` and then approves the job; empty `rows` when the job has not been to QC.",
  request: { params: jobParams },
  responses: { 200: { description: "The job's QC sample.", content: { "application/json": { schema: QcSampleSchema } } } },
});
