import { csvBytes, putObject, startUpload, type SingleUpload } from "../helpers/uploads.ts";
import { statuses, type OperationPolicy, type World } from "./policy.ts";

/**
 * Uploads: whoever may upload into the project (file:upload: admin, its pm, the client
 * organization's admin and members) starts and completes uploads; annotators, reviewers
 * and qc see the project through their job but may not upload (403); the other client
 * sees nothing (404). Downloads follow file visibility: staff work through jobs and never
 * see files (404). Completion aims at a fresh upload per actor, its bytes already stored.
 */

const UPLOADERS = { admin: 201, pm: 201, client_admin: 201, client_member: 201, other_client: 404 } as const;

function declaration() {
  const bytes = csvBytes(2);
  return { bytes, body: { filename: "matrix.csv", content_type: "text/csv", size_bytes: bytes.byteLength, file_type: "dataset" } };
}

/** A single-PUT upload into the world's project by its client_admin, bytes in storage, not yet completed. */
async function storedUpload(world: World): Promise<SingleUpload> {
  const { bytes, body } = declaration();
  const started = await startUpload(world.accounts.client_admin.token, world.project_id, bytes, body);
  if (started.status !== 201) throw new Error(`creating the upload answered ${started.status}`);
  const stored = await putObject(started.body, bytes);
  if (stored.status !== 200) throw new Error(`storing the bytes answered ${stored.status}`);
  return started.body;
}

export const policies: OperationPolicy[] = [
  {
    operationId: "createUpload",
    request: (world) => ({ method: "POST", path: `/api/v1/projects/${world.project_id}/uploads`, body: declaration().body }),
    expect: statuses(403, UPLOADERS),
  },
  {
    operationId: "completeUpload",
    request: async (world) => ({ method: "POST", path: `/api/v1/uploads/${(await storedUpload(world)).upload_id}/complete` }),
    expect: statuses(403, { admin: 200, pm: 200, client_admin: 200, client_member: 200, other_client: 404 }),
  },
  {
    operationId: "downloadFileVersion",
    request: (world) => ({ method: "GET", path: `/api/v1/file-versions/${world.version_id}/download` }),
    expect: statuses(404, { admin: 200, pm: 200, client_admin: 200, client_member: 200 }),
  },
];
