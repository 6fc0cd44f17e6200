/**
 * Every feature's router under /api/v1, in the order the app registers them (which
 * decides between two routes that match one request), each imported when a request first
 * needs it: an isolate builds the routes, zod schemas and OpenAPI metadata of the features
 * its requests use, not all of them (app-dispatch.ts; README "Two Workers").
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./lib/types.ts";

export const FEATURE_ROUTERS = {
  auth: () => import("./features/auth/auth.index.ts").then((feature) => feature.authRouter),
  "api-tokens": () => import("./features/api-tokens/api-tokens.index.ts").then((feature) => feature.apiTokensRouter),
  organizations: () => import("./features/organizations/organizations.index.ts").then((feature) => feature.organizationsRouter),
  users: () => import("./features/users/users.index.ts").then((feature) => feature.usersRouter),
  roles: () => import("./features/roles/roles.index.ts").then((feature) => feature.rolesRouter),
  projects: () => import("./features/projects/projects.index.ts").then((feature) => feature.projectsRouter),
  files: () => import("./features/files/files.index.ts").then((feature) => feature.filesRouter),
  uploads: () => import("./features/uploads/uploads.index.ts").then((feature) => feature.uploadsRouter),
  parsing: () => import("./features/parsing/parsing.index.ts").then((feature) => feature.parsingRouter),
  "dataset-profile": () => import("./features/dataset-profile/dataset-profile.index.ts").then((feature) => feature.datasetProfileRouter),
  "schema-diff": () => import("./features/schema-diff/schema-diff.index.ts").then((feature) => feature.schemaDiffRouter),
  validations: () => import("./features/validations/validations.index.ts").then((feature) => feature.validationsRouter),
  "label-schema": () => import("./features/label-schema/label-schema.index.ts").then((feature) => feature.labelSchemaRouter),
  suggestions: () => import("./features/suggestions/suggestions.index.ts").then((feature) => feature.suggestionsRouter),
  drafts: () => import("./features/drafts/drafts.index.ts").then((feature) => feature.draftsRouter),
  "annotation-jobs": () => import("./features/annotation-jobs/annotation-jobs.index.ts").then((feature) => feature.annotationJobsRouter),
  assignments: () => import("./features/assignments/assignments.index.ts").then((feature) => feature.assignmentsRouter),
  annotations: () => import("./features/annotations/annotations.index.ts").then((feature) => feature.annotationsRouter),
  responses: () => import("./features/responses/responses.index.ts").then((feature) => feature.responsesRouter),
  agreement: () => import("./features/agreement/agreement.index.ts").then((feature) => feature.agreementRouter),
  reviews: () => import("./features/reviews/reviews.index.ts").then((feature) => feature.reviewsRouter),
  "row-reviews": () => import("./features/row-reviews/row-reviews.index.ts").then((feature) => feature.rowReviewsRouter),
  qc: () => import("./features/qc/qc.index.ts").then((feature) => feature.qcRouter),
  stats: () => import("./features/stats/stats.index.ts").then((feature) => feature.statsRouter),
  comments: () => import("./features/comments/comments.index.ts").then((feature) => feature.commentsRouter),
  search: () => import("./features/search/search.index.ts").then((feature) => feature.searchRouter),
  exports: () => import("./features/exports/exports.index.ts").then((feature) => feature.exportsRouter),
  events: () => import("./features/events/events.index.ts").then((feature) => feature.eventsRouter),
  webhooks: () => import("./features/webhooks/webhooks.index.ts").then((feature) => feature.webhooksRouter),
} satisfies Record<string, () => Promise<OpenAPIHono<AppEnv>>>;

export type FeatureName = keyof typeof FEATURE_ROUTERS;

/** Who answers a route: a feature, the health checks (in every app) or the docs (the app with every feature). */
export type RouteOwner = FeatureName | "health" | "docs";
export type RouteEntry = readonly [owner: RouteOwner, method: string, path: string];
