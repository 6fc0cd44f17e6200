/**
 * The default roles and permissions, as data. `npm run db:seed` (and `npm run dev`)
 * upserts them; the authorization layer reads them from the database, never from here.
 *
 * A permission says which kind of action a role may take; *which rows* it may take it
 * on is scoped separately by the service layer (a pm only on projects where they are
 * our_pm, annotators/reviewers/qc only on jobs they hold an assignment on, client roles
 * only inside their own organization). Names are `<resource>:<action>`.
 */

export type PermissionName = (typeof PERMISSIONS)[number]["name"];
export type RoleName = (typeof ROLES)[number]["name"];

export const PERMISSIONS = [
  { name: "organization:read", description: "Read organizations (GET /organizations, /organizations/{org_id})" },
  { name: "organization:create", description: "Create organizations (POST /organizations)" },
  { name: "organization:update", description: "Update organizations (PATCH /organizations/{org_id})" },
  { name: "organization:delete", description: "Delete organizations (DELETE /organizations/{org_id})" },
  { name: "user:read", description: "Read users, roles and permissions (GET /users, /roles, /permissions)" },
  { name: "user:manage", description: "Create, update and delete users and set their roles (POST|PATCH|DELETE /users, PUT /users/{user_id}/roles)" },
  { name: "project:read", description: "Read projects (GET /projects, /projects/{project_id})" },
  { name: "project:create", description: "Create projects (POST /projects)" },
  { name: "project:update", description: "Update projects and move their status (PATCH /projects/{project_id})" },
  { name: "project:delete", description: "Delete and restore projects (DELETE /projects/{project_id}, POST …/restore)" },
  { name: "file:read", description: "Read files, versions, parsed tables and rows; download files" },
  { name: "file:upload", description: "Upload files and new versions (POST /projects/{project_id}/uploads, POST /uploads/{upload_id}/complete)" },
  { name: "file:update", description: "Update file metadata and request a reparse (PATCH /files/{file_id}, POST /file-versions/{version_id}/reparse)" },
  { name: "file:delete", description: "Delete files (DELETE /files/{file_id})" },
  { name: "job:read", description: "Read annotation jobs, their assignments and progress" },
  { name: "job:create", description: "Create annotation jobs (POST /projects/{project_id}/annotation-jobs)" },
  { name: "job:update", description: "Update annotation jobs and move their status (PATCH /annotation-jobs/{job_id})" },
  { name: "job:delete", description: "Delete annotation jobs (DELETE /annotation-jobs/{job_id})" },
  { name: "job:assign", description: "Assign and unassign people to jobs (POST /annotation-jobs/{job_id}/assignments, DELETE /assignments/{assignment_id})" },
  { name: "annotation:read", description: "Read job items, annotations and their history" },
  { name: "annotation:write", description: "Save annotations (PUT /annotation-jobs/{job_id}/items/{row_index}/annotation)" },
  { name: "review:read", description: "Read reviews (GET /annotation-jobs/{job_id}/reviews)" },
  { name: "review:write", description: "Approve or reject jobs (POST /annotation-jobs/{job_id}/reviews)" },
  { name: "comment:read", description: "Read job comment threads (GET /annotation-jobs/{job_id}/comments)" },
  { name: "comment:write", description: "Comment on jobs (POST /annotation-jobs/{job_id}/comments)" },
  { name: "export:read", description: "Read exports and download them (GET /projects/{project_id}/exports, /exports/{export_id})" },
  { name: "export:create", description: "Request exports (POST /projects/{project_id}/exports)" },
  { name: "event:read", description: "Read the audit log (GET /events), within what the caller can see" },
  { name: "api_token:manage", description: "Create, list and revoke one's own API tokens (/api-tokens)" },
  { name: "webhook:manage", description: "Manage the organization's webhooks and their deliveries (/webhooks, /webhook-deliveries)" },
] as const;

const ALL = PERMISSIONS.map((permission) => permission.name);

/** Every signed-in person may manage their own API tokens. */
const SELF_SERVICE = ["api_token:manage"] as const satisfies readonly PermissionName[];

export const ROLES = [
  {
    name: "admin",
    org_kind: "platform",
    description: "Platform administrator: everything, in every organization.",
    permissions: ALL,
  },
  {
    name: "pm",
    org_kind: "platform",
    description: "Platform project manager: the projects where they are our_pm; creates jobs, assigns, reviews, exports.",
    permissions: [
      "organization:read",
      "user:read",
      "project:read",
      "project:update",
      "file:read",
      "file:upload",
      "file:update",
      "job:read",
      "job:create",
      "job:update",
      "job:delete",
      "job:assign",
      "annotation:read",
      "review:read",
      "review:write",
      "comment:read",
      "comment:write",
      "export:read",
      "export:create",
      "event:read",
      ...SELF_SERVICE,
    ],
  },
  {
    name: "annotator",
    org_kind: "platform",
    description: "Annotates the rows of the jobs they are assigned to as annotator.",
    permissions: ["job:read", "annotation:read", "annotation:write", "review:read", "comment:read", "comment:write", ...SELF_SERVICE],
  },
  {
    name: "reviewer",
    org_kind: "platform",
    description: "Reviews (approves or rejects) the jobs they are assigned to as reviewer.",
    permissions: ["job:read", "annotation:read", "review:read", "review:write", "comment:read", "comment:write", ...SELF_SERVICE],
  },
  {
    name: "qc",
    org_kind: "platform",
    description: "Quality control: second-line review of the jobs they are assigned to as qc.",
    permissions: ["job:read", "annotation:read", "review:read", "review:write", "comment:read", "comment:write", ...SELF_SERVICE],
  },
  {
    name: "client_admin",
    org_kind: "client",
    description: "Everything inside their own organization (users, projects, files, exports); reads job progress and results.",
    permissions: [
      "organization:read",
      "organization:update",
      "user:read",
      "user:manage",
      "project:read",
      "project:create",
      "project:update",
      "project:delete",
      "file:read",
      "file:upload",
      "file:update",
      "file:delete",
      "job:read",
      "annotation:read",
      "review:read",
      // Job comment threads are visible to everyone who can see the job (PRODUCT.md, Annotation).
      "comment:read",
      "export:read",
      "export:create",
      "event:read",
      "webhook:manage",
      ...SELF_SERVICE,
    ],
  },
  {
    name: "client_member",
    org_kind: "client",
    description: "Their organization's projects: uploads files, reads results, requests exports.",
    permissions: [
      "organization:read",
      "project:read",
      "file:read",
      "file:upload",
      "job:read",
      "annotation:read",
      "comment:read",
      "export:read",
      "export:create",
      ...SELF_SERVICE,
    ],
  },
] as const satisfies readonly {
  name: string;
  org_kind: "platform" | "client";
  description: string;
  permissions: readonly PermissionName[];
}[];
