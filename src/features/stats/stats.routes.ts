import { z } from "@hono/zod-openapi";
import { pathId, protectedRoute } from "../../lib/routes.ts";
import { ProjectJobProgressSchema } from "../annotation-jobs/job-progress.ts";

const TAG = "Projects";

const rate = (description: string) => z.number().nullable().openapi({ description });

const AnnotatorStatsSchema = z
  .object({
    user_id: z.number().int(),
    full_name: z.string().nullable(),
    rows_answered: z.number().int().openapi({ description: "Rows of the project's live jobs with a response of theirs." }),
    jobs_submitted: z.number().int().openapi({ description: "Jobs whose current submission includes theirs (a rejection clears it)." }),
    rows_submitted: z.number().int().openapi({ description: "Their responses in those jobs." }),
    rows_reviewed: z.number().int().openapi({ description: "Rows they answered that have a review verdict." }),
    rows_rejected: z.number().int().openapi({ description: "Rows they answered that the review rejected at least once." }),
    rejection_rate: rate("rows_rejected / rows_reviewed; null before any verdict."),
    answers_compared: z.number().int().openapi({ description: "Their answers to questions whose row has a resolved `final`." }),
    agreement_with_final: rate("The share of those answers equal to `final` (multi_label as sets); null when none."),
    rows_timed: z.number().int().openapi({ description: "Rows whose saves carried lead_time_ms." }),
    median_seconds_per_row: rate("Median over those rows of the row's lead_time_ms summed over their saves, in seconds; null when none."),
  })
  .openapi("AnnotatorStats");

const AgentStatsSchema = z
  .object({
    agent: z.string(),
    questions: z.array(z.object({
      question: z.string(),
      responses: z.number().int().openapi({ description: "Responses answering the question on a row the agent made a suggestion for." }),
      accepted: z.number().int().openapi({ description: "Those equal to the suggestion." }),
      acceptance_rate: z.number(),
    })),
  })
  .openapi("AgentStats");

export const ProjectStatsSchema = z
  .object({
    project_id: z.number().int(),
    annotators: z.array(AnnotatorStatsSchema),
    agents: z.array(AgentStatsSchema),
    overdue: z.object({
      count: z.number().int(),
      jobs: z.array(z.object({ job_id: z.number().int(), name: z.string(), status: z.string(), due_date: z.string() }))
        .openapi({ description: "The 50 most overdue, earliest due first." }),
    }).openapi({ description: "Live jobs due before today (UTC) and not reviewed." }),
    progress: ProjectJobProgressSchema.extend({
      rows_accepted: z.number().int().openapi({ description: "Rows whose current verdict is accepted." }),
      rows_rejected: z.number().int().openapi({ description: "Rows whose current verdict is rejected." }),
    }),
  })
  .openapi("ProjectStats");

export const getProjectStats = protectedRoute({
  method: "get",
  path: "/projects/{project_id}/stats",
  operationId: "getProjectStats",
  tags: [TAG],
  summary: "The project's statistics: annotators, agents' suggestions, overdue jobs, progress",
  description:
    "For the project's pm and platform admins (others who see the project get 403), computed when read over the project's live jobs, " +
    "in one query. Definitions: README, Statistics.",
  request: { params: z.object({ project_id: pathId("project_id") }) },
  responses: { 200: { description: "The statistics.", content: { "application/json": { schema: ProjectStatsSchema } } } },
});
