/**
 * `npm run example`: the whole product path through the typed client, against a running
 * `npm run dev` (API_URL, default http://127.0.0.1:8787; SEED_PASSWORD for the demo
 * platform admin, default grandscale-demo):
 * register → project → upload a CSV → parse → label schema → jobs → assign →
 * annotate → submit → review → export → download.
 */
import { createGrandScaleClient, download, unwrap, uploadFile, waitForExport, type GrandScaleClient } from "./src/index.ts";

const baseUrl = (process.env.API_URL ?? "http://127.0.0.1:8787").replace(/\/$/, "");
const seedPassword = process.env.SEED_PASSWORD ?? "grandscale-demo";
const started = Date.now();
const step = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);

async function login(email: string, password: string): Promise<{ client: GrandScaleClient; userId: number }> {
  const tokens = unwrap(await createGrandScaleClient({ baseUrl }).POST("/api/v1/auth/login", { body: { email, password } }), `login ${email}`);
  const client = createGrandScaleClient({ baseUrl, token: tokens.access_token });
  const me = unwrap(await client.GET("/api/v1/auth/me"), "getCurrentUser");
  return { client, userId: me.user.user_id };
}

const CSV = ["review,stars", "Great product,5", "Broke after a day,1", "Does the job,3"].join("\n") + "\n";
const LABELS: Record<string, string> = { "Great product": "positive", "Broke after a day": "negative", "Does the job": "neutral" };

// 1. A client registers (a new organization) and creates a project.
const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const password = `example-password-${suffix}`;
const registered = unwrap(
  await createGrandScaleClient({ baseUrl }).POST("/api/v1/auth/register", {
    body: { email: `client-${suffix}@example.test`, password, full_name: "Example Client", organization_name: `Example Org ${suffix}` },
  }),
  "register",
);
const client = createGrandScaleClient({ baseUrl, token: registered.access_token });
step("registered a client organization");
const project = unwrap(await client.POST("/api/v1/projects", { body: { name: `Product reviews ${suffix}` } }), "createProject");
step(`project ${project.project_id} created`);

// 2. The client uploads a CSV (presigned PUT, complete) and waits for the parse.
const version = await uploadFile(client, project.project_id, new TextEncoder().encode(CSV), { filename: "reviews.csv" });
const tables = unwrap(await client.GET("/api/v1/file-versions/{version_id}/tables", { params: { path: { version_id: version.version_id } } }), "listVersionTables");
const table = tables.data[0];
if (!table) throw new Error("the parsed CSV has no table");
step(`uploaded and parsed: version ${version.version_id}, table ${table.table_id} with ${table.row_count} rows`);

// A file above the server's multipart threshold goes up in presigned parts (CI starts the
// dev server with MULTIPART_THRESHOLD_BYTES and tells this script the same number).
const threshold = Number(process.env.MULTIPART_THRESHOLD_BYTES ?? 0);
if (threshold > 0) {
  const rows = Array.from({ length: Math.ceil((threshold * 1.2) / 48) }, (_, i) => `${i},review number ${i} of the bulk file\n`);
  const bulk = new TextEncoder().encode(`id,text\n${rows.join("")}`);
  if (bulk.byteLength <= threshold) throw new Error("the bulk file must be above the multipart threshold");
  const bulkVersion = await uploadFile(client, project.project_id, bulk, { filename: "bulk.csv" });
  const bulkTables = unwrap(await client.GET("/api/v1/file-versions/{version_id}/tables", { params: { path: { version_id: bulkVersion.version_id } } }), "listVersionTables");
  if (bulkVersion.size_bytes !== bulk.byteLength || bulkTables.data[0]?.row_count !== rows.length) {
    throw new Error(`the multipart upload came back as ${bulkVersion.size_bytes} bytes, ${bulkTables.data[0]?.row_count} rows`);
  }
  step(`uploaded ${bulk.byteLength} bytes in parts and parsed ${rows.length} rows`);
}

// 3. The platform admin sets the label schema, cuts a job over the table and staffs it.
const admin = await login("admin@platform.test", seedPassword);
const annotator = await login("annotator@platform.test", seedPassword);
const reviewer = await login("reviewer@platform.test", seedPassword);
const path = { project_id: project.project_id };
const current = await admin.client.GET("/api/v1/projects/{project_id}/label-schema", { params: { path } });
unwrap(
  await admin.client.PUT("/api/v1/projects/{project_id}/label-schema", {
    params: { path, header: { "if-match": current.response.headers.get("etag") ?? undefined } },
    body: { questions: [{ name: "sentiment", title: "Sentiment", type: "label", required: true, options: ["positive", "negative", "neutral"] }] },
  }),
  "putLabelSchema",
);
step("label schema set");
const jobs = unwrap(
  await admin.client.POST("/api/v1/projects/{project_id}/annotation-jobs", {
    params: { path },
    body: { name: "Reviews", table_id: table.table_id, priority: "high", instructions: "Sentiment of each review." },
  }),
  "createAnnotationJobs",
);
const job = jobs.data[0]!;
for (const [user, role] of [[annotator, "annotator"], [reviewer, "reviewer"]] as const) {
  unwrap(await admin.client.POST("/api/v1/annotation-jobs/{job_id}/assignments", { params: { path: { job_id: job.job_id } }, body: { user_id: user.userId, role } }), "createAssignment");
}
step(`job ${job.job_id} created (rows ${job.row_start}–${job.row_end}), annotator and reviewer assigned`);

// 4. The annotator labels every row and submits; the reviewer approves.
const jobPath = { job_id: job.job_id };
const items = unwrap(await annotator.client.GET("/api/v1/annotation-jobs/{job_id}/items", { params: { path: jobPath } }), "listJobItems");
for (const item of items.data) {
  const review = String(item.data.review);
  unwrap(
    await annotator.client.PUT("/api/v1/annotation-jobs/{job_id}/items/{row_index}/annotation", {
      params: { path: { job_id: job.job_id, row_index: item.row_index } },
      body: { data: { sentiment: LABELS[review] ?? "neutral" } },
    }),
    "saveAnnotation",
  );
}
const submitted = unwrap(await annotator.client.PATCH("/api/v1/annotation-jobs/{job_id}", { params: { path: jobPath }, body: { status: "submitted" } }), "submit");
step(`annotated ${submitted.progress.annotated}/${submitted.progress.total} rows and submitted`);
unwrap(await reviewer.client.POST("/api/v1/annotation-jobs/{job_id}/reviews", { params: { path: jobPath }, body: { status: "approved" } }), "createReview");
step("review: approved");

// 5. The client exports the approved results and downloads them.
const requested = unwrap(await client.POST("/api/v1/projects/{project_id}/exports", { params: { path }, body: { format: "jsonl", scope: "approved" } }), "createExport");
const finished = await waitForExport(client, requested.export_id);
if (!finished.download_url) throw new Error("the finished export has no download_url");
const lines = new TextDecoder().decode(await download(finished.download_url)).trim().split("\n");
step(`export ${finished.export_id}: ${finished.row_count} rows, downloaded ${lines.length} lines`);
for (const line of lines) console.log(`  ${line}`);
if (lines.length !== 3) throw new Error(`expected 3 exported rows, got ${lines.length}`);
const exported = lines.map((line) => JSON.stringify(JSON.parse(line)));
for (const label of Object.values(LABELS)) {
  if (!exported.some((line) => line.includes(`"${label}"`))) throw new Error(`the export lacks the label ${label}`);
}
step("done: the whole product path ran");
