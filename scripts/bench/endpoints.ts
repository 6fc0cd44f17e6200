/**
 * What the load runs against: one small declarative entry per endpoint. Adding an
 * endpoint is adding an entry here.
 *
 * - `route`: its OpenAPI path (parameter names do not matter); an endpoint whose route
 *   is not in the Worker's /openapi.json is reported "not available" and skipped.
 * - `targets`: the rotation of concrete requests (different ids, so the load is not one
 *   hot row); every connection walks through them in turn, and the floor replays the SQL
 *   recorded for each of them in the same order. A `body` gets a fresh unique string per
 *   request (for names that must be unique).
 * - `budget`: database round trips allowed by DEVELOPERS.md: authentication 0, a read 1,
 *   a write 1. An API token is looked up once per isolate (src/features/api-tokens/
 *   api-token-cache.ts); the sample warms it first, as the warm-up does for load runs.
 */
import type { Dataset } from "./dataset.ts";

export type Actor = "reader" | "writer" | "annotator" | "reviewer";
export type Credential = "jwt" | "api_token";
export type Target = { path: string; body?: (unique: string) => unknown };

export type Endpoint = {
  key: string;
  label: string;
  method: "GET" | "POST" | "PUT";
  route: string;
  kind: "read" | "write";
  actor: Actor;
  credential: Credential;
  targets(data: Dataset): Target[];
};

const API = "/api/v1";
const ROUND_TRIPS = { credential: { jwt: 0, api_token: 0 }, kind: { read: 1, write: 1 } } as const;

export function budgetOf(endpoint: Endpoint): number {
  return ROUND_TRIPS.credential[endpoint.credential] + ROUND_TRIPS.kind[endpoint.kind];
}

/** Why an endpoint's budget is what it is, for the report. */
export function budgetNote(endpoint: Endpoint): string {
  const authentication = endpoint.credential === "api_token" ? "0 (its lookup paid once per isolate)" : "0";
  return `authentication: ${authentication} + ${endpoint.kind}: 1`;
}

const first = <T>(items: T[], count: number) => items.slice(0, Math.max(1, Math.min(count, items.length)));

/** 128 different rows over 32 jobs: some already annotated (update), some not yet (insert). */
function saveTargets(jobs: Dataset["annotator"]["jobs"]): Target[] {
  return first(jobs, 32).flatMap((job) =>
    [0, 10, 30, 60].map((offset) => ({
      path: `${API}/annotation-jobs/${job.job_id}/items/${job.row_start + offset}/annotation`,
      body: () => ({ data: { label: "positive", confidence: 0.9, note: "bench" } }),
    })),
  );
}

export const ENDPOINTS: Endpoint[] = [
  {
    key: "projects.list",
    label: "GET /projects?limit=50",
    method: "GET",
    route: "/projects",
    kind: "read",
    actor: "reader",
    credential: "jwt",
    targets: () => [{ path: `${API}/projects?limit=50` }],
  },
  {
    key: "projects.get",
    label: "GET /projects/{id}",
    method: "GET",
    route: "/projects/{project_id}",
    kind: "read",
    actor: "reader",
    credential: "jwt",
    targets: (data) => first(data.reader.project_ids, 64).map((id) => ({ path: `${API}/projects/${id}` })),
  },
  {
    key: "projects.create",
    label: "POST /projects",
    method: "POST",
    route: "/projects",
    kind: "write",
    actor: "writer",
    credential: "jwt",
    targets: () => [{ path: `${API}/projects`, body: (unique) => ({ name: `Load ${unique}`, description: "Created by npm run bench." }) }],
  },
  {
    key: "annotation-jobs.items",
    label: "GET /annotation-jobs/{id}/items",
    method: "GET",
    route: "/annotation-jobs/{job_id}/items",
    kind: "read",
    actor: "annotator",
    credential: "jwt",
    targets: (data) => first(data.annotator.jobs, 32).map((job) => ({ path: `${API}/annotation-jobs/${job.job_id}/items` })),
  },
  {
    key: "annotations.put",
    label: "PUT /annotation-jobs/{id}/items/{row_index}/annotation",
    method: "PUT",
    route: "/annotation-jobs/{job_id}/items/{row_index}/annotation",
    kind: "write",
    actor: "annotator",
    credential: "jwt",
    targets: (data) => saveTargets(data.annotator.jobs),
  },
  {
    key: "annotations.put.schema",
    label: "PUT …/annotation under a label schema",
    method: "PUT",
    route: "/annotation-jobs/{job_id}/items/{row_index}/annotation",
    kind: "write",
    actor: "annotator",
    credential: "jwt",
    // The same rows and body as the PUT above, in projects whose label schema checks every save.
    targets: (data) => saveTargets(data.annotator.schema_jobs),
  },
  {
    key: "annotation-jobs.items.responses",
    label: "GET …/items, 3 responses per row",
    method: "GET",
    route: "/annotation-jobs/{job_id}/items",
    kind: "read",
    actor: "reviewer",
    credential: "jwt",
    // The pm reads every response: consensus (final, agreed) over three per annotated row.
    targets: (data) => first(data.reviewer.jobs, 32).map((job) => ({ path: `${API}/annotation-jobs/${job.job_id}/items` })),
  },
  {
    key: "row-reviews.put",
    label: "PUT …/items/{row_index}/review",
    method: "PUT",
    route: "/annotation-jobs/{job_id}/items/{row_index}/review",
    kind: "write",
    actor: "reviewer",
    credential: "jwt",
    // The pm accepts rows of the submitted three-annotator jobs: 128 rows over 32 jobs.
    targets: (data) => first(data.reviewer.jobs, 32).flatMap((job) =>
      [0, 10, 30, 60].map((offset) => ({
        path: `${API}/annotation-jobs/${job.job_id}/items/${job.row_start + offset}/review`,
        body: () => ({ verdict: "accepted", reason: "bench" }),
      })),
    ),
  },
  {
    key: "auth.me.jwt",
    label: "GET /auth/me (JWT)",
    method: "GET",
    route: "/auth/me",
    kind: "read",
    actor: "reader",
    credential: "jwt",
    targets: () => [{ path: `${API}/auth/me` }],
  },
  {
    key: "auth.me.api_token",
    label: "GET /auth/me (API token)",
    method: "GET",
    route: "/auth/me",
    kind: "read",
    actor: "reader",
    credential: "api_token",
    targets: () => [{ path: `${API}/auth/me` }],
  },
];
