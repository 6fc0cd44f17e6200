import { z } from "@hono/zod-openapi";
import { pathId, protectedRoute } from "../../lib/routes.ts";
import { AGREEMENT_TYPES } from "./agreement.service.ts";

const TAG = "Review and quality";

const figure = (description: string) => z.number().nullable().openapi({ description });

const QuestionFiguresSchema = z
  .object({
    name: z.string().openapi({ description: "The question's name in the label schema." }),
    type: z.enum(AGREEMENT_TYPES),
    option: z.string().nullable().openapi({ description: "For `multi_label`: the option this entry is about (one entry per option, in the schema's order); null otherwise." }),
    raters: z.number().int().openapi({ description: "Annotators with at least one value in the rows counted." }),
    rows: z.number().int().openapi({ description: "Rows (of a job) with at least two answers to the question: the only rows any figure counts." }),
    percent_agreement: figure("Agreeing pairs of answers among all pairs of answers to the same row, over the rows counted."),
    krippendorff_alpha: figure("Krippendorff's α: nominal for label and multi_label options, ordinal for rating, interval for number. Null when no disagreement is expected (one value throughout) or no row counts."),
    fleiss_kappa: figure("Fleiss' κ (categories are the distinct values); null unless every row counted has the same number of answers."),
    cohen_kappa: figure("Cohen's κ (unweighted); null unless exactly two annotators answered the rows counted."),
  })
  .openapi("QuestionAgreement");

const PairFiguresSchema = z
  .object({
    question: z.string(),
    option: z.string().nullable().openapi({ description: "For `multi_label`: the option; null otherwise." }),
    annotator_a: z.number().int().openapi({ description: "The lower user id of the pair." }),
    annotator_b: z.number().int(),
    rows: z.number().int().openapi({ description: "Rows both annotators answered." }),
    cohen_kappa: figure("Cohen's κ (unweighted) over those rows; null when chance agreement is 1 (both always gave one same value)."),
  })
  .openapi("AnnotatorPairAgreement");

export const AgreementSchema = z
  .object({
    project_id: z.number().int(),
    job_id: z.number().int().nullable().openapi({ description: "The job asked for; null for the whole project." }),
    questions: z.array(QuestionFiguresSchema),
    pairs: z.array(PairFiguresSchema).openapi({ description: "Per question (and option), per pair of annotators who answered at least one same row." }),
  })
  .openapi("Agreement");

export const getAgreement = protectedRoute({
  method: "get",
  path: "/projects/{project_id}/agreement",
  operationId: "getAgreement",
  tags: [TAG],
  summary: "Inter-annotator agreement per question and per annotator pair",
  description:
    "Percent agreement, Krippendorff's α, Fleiss' κ and Cohen's κ of the responses to the label schema's `label`, `multi_label` (per option), " +
    "`rating` and `number` questions, over the jobs of the project whose responses the caller reads in full: the project's pm and platform admins " +
    "every job, a reviewer or qc the jobs they are assigned to, a client organization its reviewed (approved) jobs. Annotators get 403. " +
    "`job_id` narrows to one job of the project (404 if it is not one, 403 if the caller may not read its responses); `question` to one " +
    "question (422 if the schema has no such question, or it is of another type). A project without a label schema has no figures. " +
    "Only rows with at least two answers count; definitions in the README (Agreement).",
  request: {
    params: z.object({ project_id: pathId("project_id") }),
    query: z.object({
      job_id: z.coerce.number().int().positive().optional().openapi({ description: "Only this job of the project." }),
      question: z
        .string()
        .regex(/^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/, "must be a question name (snake_case)")
        .max(64)
        .optional()
        .openapi({ description: "Only this question of the label schema." }),
    }),
  },
  responses: { 200: { description: "The figures.", content: { "application/json": { schema: AgreementSchema } } } },
});
