import { z } from "@hono/zod-openapi";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { protectedRoute } from "../../lib/routes.ts";
import { SEARCH_KINDS } from "./search.service.ts";
import { qParameter } from "./text-search.ts";

const SearchResultSchema = z
  .object({
    type: z.enum(SEARCH_KINDS),
    id: z.number().int().openapi({ description: "The project_id, file_id, job_id or comment_id, as `type` says." }),
    project_id: z.number().int(),
    job_id: z.number().int().nullable().openapi({ description: "The job a comment belongs to (the job itself for a job); null otherwise." }),
    title: z.string().openapi({ description: "The project's or job's name, the file's name, or the comment's first 200 characters." }),
    rank: z.number().openapi({ description: "ts_rank of the match: results come best first." }),
  })
  .openapi("SearchResult");

export const search = protectedRoute({
  method: "get",
  path: "/search",
  operationId: "search",
  tags: ["Search"],
  summary: "Full-text search across the projects, files, jobs and comments you may see",
  description:
    "Projects by name and description, files by name, jobs by name and instructions, comments by body, in English (web-search syntax), " +
    "limited to what the caller may read as the lists show it (deleted ones left out): a client its organization's, a pm the projects " +
    "they run, staff the jobs they are assigned to (and those jobs' projects and comments; never files). Best first, then by type and id.",
  request: {
    query: z.object({
      q: qParameter.unwrap().openapi({ description: "What to look for (1–200 characters; words, \"phrases\", `or`, `-word`)." }),
      type: z.enum(SEARCH_KINDS).optional().openapi({ description: "Only results of this type." }),
      limit: limitSchema,
      cursor: cursorSchema,
    }),
  },
  responses: { 200: { description: "A page of results.", content: { "application/json": { schema: pageSchema(SearchResultSchema) } } } },
});
