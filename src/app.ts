import type { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { applyCommonMiddleware } from "./app-common.ts";
import { agreementRouter } from "./features/agreement/agreement.index.ts";
import { annotationJobsRouter } from "./features/annotation-jobs/annotation-jobs.index.ts";
import { annotationsRouter } from "./features/annotations/annotations.index.ts";
import { apiTokensRouter } from "./features/api-tokens/api-tokens.index.ts";
import { assignmentsRouter } from "./features/assignments/assignments.index.ts";
import { authRouter } from "./features/auth/auth.index.ts";
import { commentsRouter } from "./features/comments/comments.index.ts";
import { datasetProfileRouter } from "./features/dataset-profile/dataset-profile.index.ts";
import { registerDocs } from "./features/docs/docs.index.ts";
import { eventsRouter } from "./features/events/events.index.ts";
import { exportsRouter } from "./features/exports/exports.index.ts";
import { filesRouter } from "./features/files/files.index.ts";
import { healthRouter } from "./features/health/health.index.ts";
import { labelSchemaRouter } from "./features/label-schema/label-schema.index.ts";
import { organizationsRouter } from "./features/organizations/organizations.index.ts";
import { parsingRouter } from "./features/parsing/parsing.index.ts";
import { projectsRouter } from "./features/projects/projects.index.ts";
import { responsesRouter } from "./features/responses/responses.index.ts";
import { reviewsRouter } from "./features/reviews/reviews.index.ts";
import { rowReviewsRouter } from "./features/row-reviews/row-reviews.index.ts";
import { qcRouter } from "./features/qc/qc.index.ts";
import { statsRouter } from "./features/stats/stats.index.ts";
import { rolesRouter } from "./features/roles/roles.index.ts";
import { schemaDiffRouter } from "./features/schema-diff/schema-diff.index.ts";
import { searchRouter } from "./features/search/search.index.ts";
import { suggestionsRouter } from "./features/suggestions/suggestions.index.ts";
import { draftsRouter } from "./features/drafts/drafts.index.ts";
import { uploadsRouter } from "./features/uploads/uploads.index.ts";
import { validationsRouter } from "./features/validations/validations.index.ts";
import { usersRouter } from "./features/users/users.index.ts";
import { webhookSignal } from "./features/webhooks/webhook-signal.ts";
import { webhooksRouter } from "./features/webhooks/webhooks.index.ts";
import { createRouter } from "./lib/create-router.ts";
import { ApiError } from "./lib/errors.ts";
import type { AppEnv } from "./lib/types.ts";
import { notFound, onError } from "./middleware/errors.ts";
import { jsonBody } from "./middleware/json-body.ts";

export const API_BASE_PATH = "/api/v1";
const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** Every feature's router, mounted under /api/v1. */
const FEATURE_ROUTERS = [
  authRouter,
  apiTokensRouter,
  organizationsRouter,
  usersRouter,
  rolesRouter,
  projectsRouter,
  filesRouter,
  uploadsRouter,
  parsingRouter,
  datasetProfileRouter,
  schemaDiffRouter,
  validationsRouter,
  labelSchemaRouter,
  suggestionsRouter,
  draftsRouter,
  annotationJobsRouter,
  assignmentsRouter,
  annotationsRouter,
  responsesRouter,
  agreementRouter,
  reviewsRouter,
  rowReviewsRouter,
  qcRouter,
  statsRouter,
  commentsRouter,
  searchRouter,
  exportsRouter,
  eventsRouter,
  webhooksRouter,
];

function apiRouter() {
  const api = createRouter();
  for (const router of FEATURE_ROUTERS) api.route("/", router);
  return api;
}

/**
 * Which methods the app serves on a path, from its route table: the 405's `Allow`. Paths
 * match exactly as the router does (no trailing slash, no empty segment), so
 * `DELETE /api-tokens/` (an empty token_id) is the 404 it is, not a 405 offering GET.
 */
function methodIndex(app: OpenAPIHono<AppEnv>) {
  let routes: { pattern: RegExp; method: string }[] | undefined;
  return (path: string) => {
    routes ??= app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => ({
        method: route.method,
        pattern: new RegExp(`^${route.path.replace(/:[^/]+/g, "[^/]+").replace(/\*/g, ".*")}$`),
      }));
    return [...new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method))];
  };
}

export function createApp() {
  const app = createRouter();

  applyCommonMiddleware(app);
  app.use(
    `${API_BASE_PATH}/*`,
    bodyLimit({
      maxSize: MAX_JSON_BODY_BYTES,
      onError: () => {
        throw new ApiError("payload_too_large", `Request bodies are limited to ${MAX_JSON_BODY_BYTES} bytes.`);
      },
    }),
  );
  app.use(`${API_BASE_PATH}/*`, jsonBody);
  app.use(`${API_BASE_PATH}/*`, webhookSignal);

  app.route("/", healthRouter);
  app.route(API_BASE_PATH, apiRouter());
  registerDocs(app);

  app.onError(onError);
  app.notFound(notFound(methodIndex(app)));
  return app;
}
