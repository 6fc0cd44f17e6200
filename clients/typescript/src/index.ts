/**
 * GrandScale API client for TypeScript: openapi-fetch over the types openapi-typescript
 * generates from clients/openapi.json (`npm run client:generate`), plus the upload flow
 * (presigned single PUT or multipart, complete, wait for the parse) and export polling.
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.d.ts";

export type { components, operations, paths } from "./schema.d.ts";
export type Schemas = components["schemas"];
export type GrandScaleClient = Client<paths>;

type FetchLike = (input: Request) => Promise<Response>;

/**
 * A fetch that retries a request whose connection failed before any answer came (the
 * local S3 endpoint and wrangler dev close idle keep-alive sockets). POSTs carry an
 * Idempotency-Key, so a retried POST the server did run is answered from its record.
 */
export function retryingFetch(attempts = 3, baseFetch: typeof fetch = fetch): FetchLike {
  return async (input: Request) => {
    let request = input;
    if (request.method === "POST" && !request.headers.has("idempotency-key")) {
      const headers = new Headers(request.headers);
      headers.set("idempotency-key", crypto.randomUUID());
      request = new Request(request, { headers });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await baseFetch(request.clone());
      } catch (error) {
        if (!(error instanceof TypeError) || attempt >= attempts) throw error;
        await new Promise((done) => setTimeout(done, 100 * attempt));
      }
    }
  };
}

export type ClientOptions = { baseUrl?: string; token?: string };

/** A typed client for every operation in the spec: `client.GET("/api/v1/projects/{project_id}", { params: { path: { project_id } } })`. */
export function createGrandScaleClient({ baseUrl = "http://127.0.0.1:8787", token }: ClientOptions = {}): GrandScaleClient {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/$/, ""),
    fetch: retryingFetch(),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

/** A problem+json answer (or a network failure) turned into one error with the status and the detail. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: unknown;
  constructor(status: number, problem: unknown, where: string) {
    super(`${where}: ${status} ${JSON.stringify(problem)}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

/** The data of an openapi-fetch result, or an ApiError with its problem. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }, where = `${result.response.url}`): T {
  if (result.error !== undefined || result.data === undefined) throw new ApiError(result.response.status, result.error, where);
  return result.data;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export type FileVersion = Schemas["FileVersion"];
export type SingleUpload = Schemas["SingleUpload"];
export type MultipartUpload = Schemas["MultipartUpload"];
export type Export = Schemas["Export"];

export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array<ArrayBuffer>(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

const storageFetch = retryingFetch();

async function putToStorage(url: string, body: Uint8Array<ArrayBuffer>, headers: Record<string, string>): Promise<Response> {
  const response = await storageFetch(new Request(url, { method: "PUT", headers, body }));
  if (!response.ok) throw new ApiError(response.status, await response.text(), `PUT ${new URL(url).pathname}`);
  return response;
}

export type UploadOptions = {
  filename: string;
  contentType?: string;
  fileType?: "dataset" | "requirement" | "report" | "llm_output";
  /** A new version of this file instead of a new file. */
  fileId?: number;
  /** Wait for the parse (datasets); default true. */
  waitForParse?: boolean;
  timeoutMs?: number;
};

/**
 * The whole upload: declare it (size and SHA-256), PUT the bytes with the signed headers
 * (one PUT, or each part of a multipart upload, keeping each part's ETag), complete,
 * then poll GET /file-versions/{id} until the parse succeeds (or throw when it fails).
 */
export async function uploadFile(client: GrandScaleClient, projectId: number, bytes: Uint8Array<ArrayBuffer>, options: UploadOptions): Promise<FileVersion> {
  const body = {
    filename: options.filename,
    content_type: options.contentType ?? "text/csv",
    size_bytes: bytes.byteLength,
    sha256: await sha256Hex(bytes),
    file_type: options.fileType ?? "dataset",
    ...(options.fileId === undefined ? {} : { file_id: options.fileId }),
  };
  const upload = unwrap(await client.POST("/api/v1/projects/{project_id}/uploads", { params: { path: { project_id: projectId } }, body }), "createUpload");
  let parts: { part_number: number; etag: string }[] | undefined;
  if ("url" in upload) {
    await putToStorage(upload.url, bytes, upload.headers);
  } else {
    parts = [];
    for (const { part_number, url } of upload.parts) {
      const start = (part_number - 1) * upload.part_size;
      const response = await putToStorage(url, bytes.subarray(start, start + upload.part_size), {});
      const etag = response.headers.get("etag");
      if (!etag) throw new Error(`part ${part_number}: storage answered no ETag`);
      parts.push({ part_number, etag });
    }
  }
  const completed = unwrap(
    await client.POST("/api/v1/uploads/{upload_id}/complete", { params: { path: { upload_id: upload.upload_id } }, body: parts ? { parts } : {} }),
    "completeUpload",
  );
  if (options.waitForParse === false) return completed;
  return waitForParse(client, completed.version_id, options.timeoutMs);
}

/**
 * Reads `read()` with back-off (100 ms, doubling to 1 s) until `settled` answers true,
 * and throws `timedOut(last)` once `timeoutMs` has passed. `settled` throws for a
 * terminal failure.
 */
async function pollUntil<T>(read: () => Promise<T>, settled: (value: T) => boolean, timedOut: (value: T) => Error, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    const value = await read();
    if (settled(value)) return value;
    if (Date.now() > deadline) throw timedOut(value);
    await sleep(delay);
  }
}

/** Polls GET /file-versions/{id} until parse_status is succeeded (answers it) or failed (throws). */
export async function waitForParse(client: GrandScaleClient, versionId: number, timeoutMs = 60_000): Promise<FileVersion> {
  return pollUntil(
    async () => unwrap(await client.GET("/api/v1/file-versions/{version_id}", { params: { path: { version_id: versionId } } }), "getFileVersion"),
    (version) => {
      if (version.parse_status === "failed") throw new Error(`version ${versionId} failed to parse: ${version.parse_error}`);
      return version.parse_status === "succeeded";
    },
    (version) => new Error(`version ${versionId} did not parse within ${timeoutMs} ms (${version.parse_status})`),
    timeoutMs,
  );
}

/** Polls GET /exports/{id} until it succeeded (answers it, with download_url) or failed (throws). */
export async function waitForExport(client: GrandScaleClient, exportId: number, timeoutMs = 60_000): Promise<Export> {
  return pollUntil(
    async () => unwrap(await client.GET("/api/v1/exports/{export_id}", { params: { path: { export_id: exportId } } }), "getExport"),
    (found) => {
      if (found.status === "failed") throw new Error(`export ${exportId} failed: ${found.error}`);
      return found.status === "succeeded";
    },
    (found) => new Error(`export ${exportId} did not finish within ${timeoutMs} ms (${found.status})`),
    timeoutMs,
  );
}

/** GETs a presigned download URL (no API credentials), retrying a dropped connection. */
export async function download(url: string): Promise<Uint8Array<ArrayBuffer>> {
  const response = await storageFetch(new Request(url));
  if (!response.ok) throw new ApiError(response.status, await response.text(), "download");
  return new Uint8Array<ArrayBuffer>(await response.arrayBuffer());
}
