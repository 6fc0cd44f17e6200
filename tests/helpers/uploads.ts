/**
 * The upload flow as a client runs it: ask the API for presigned URLs, PUT the bytes
 * straight to storage (the local S3 endpoint, signatures checked), complete.
 */
import { expect } from "vitest";
import { sql, testDb } from "./db.ts";
import { request, type ApiResponse } from "./http.ts";

export type SingleUpload = {
  upload_id: number;
  file_id: number;
  version_id: number;
  expires_at: string;
  method: "PUT";
  url: string;
  headers: Record<string, string>;
};

export type MultipartUpload = Omit<SingleUpload, "method" | "url" | "headers"> & {
  part_size: number;
  parts: { part_number: number; url: string }[];
};

export type UploadDeclaration = {
  filename?: string;
  content_type?: string;
  size_bytes?: number;
  sha256?: string;
  file_type?: string;
  file_id?: number;
};

export const encoder = new TextEncoder();

export function csvBytes(rows = 3): Uint8Array {
  const lines = ["id,name", ...Array.from({ length: rows }, (_, index) => `${index + 1},row ${index + 1}`)];
  return encoder.encode(`${lines.join("\n")}\n`);
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function startUpload(token: string, projectId: number, bytes: Uint8Array, declaration: UploadDeclaration = {}, headers: Record<string, string> = {}) {
  return request("POST", `/api/v1/projects/${projectId}/uploads`, {
    token,
    headers,
    body: { filename: "data.csv", content_type: "text/csv", size_bytes: bytes.byteLength, file_type: "dataset", ...declaration },
  });
}

/** PUT to a presigned URL with exactly the headers the API said to send. */
export function putObject(upload: SingleUpload, bytes: Uint8Array, headers: Record<string, string> = upload.headers): Promise<Response> {
  return fetch(upload.url, { method: "PUT", headers, body: bytes });
}

/** Each part's bytes to its URL; answers the parts list `complete` wants (ETags as storage gave them). */
export async function putParts(upload: MultipartUpload, bytes: Uint8Array) {
  return Promise.all(
    upload.parts.map(async ({ part_number, url }) => {
      const start = (part_number - 1) * upload.part_size;
      const response = await fetch(url, { method: "PUT", body: bytes.slice(start, start + upload.part_size) });
      expect(response.status, await response.clone().text()).toBe(200);
      return { part_number, etag: response.headers.get("etag")! };
    }),
  );
}

export function completeUpload(token: string, uploadId: number, body?: unknown): Promise<ApiResponse<any>> {
  return request("POST", `/api/v1/uploads/${uploadId}/complete`, { token, ...(body === undefined ? {} : { body }) });
}

/** The whole single-PUT flow, expecting success; the completed version. */
export async function uploadFile(token: string, projectId: number, bytes: Uint8Array, declaration: UploadDeclaration = {}) {
  const started = await startUpload(token, projectId, bytes, declaration);
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const upload = started.body as SingleUpload;
  const stored = await putObject(upload, bytes);
  expect(stored.status, await stored.clone().text()).toBe(200);
  const completed = await completeUpload(token, upload.upload_id);
  expect(completed.status, JSON.stringify(completed.body)).toBe(200);
  return { upload, version: completed.body as { version_id: number; file_id: number; version_number: number } };
}

/** Where an upload's bytes live (the API never shows object keys). */
export async function objectKeyOf(uploadId: number): Promise<string> {
  const result = await testDb().execute(sql`select r2_key from upload where upload_id = ${uploadId}`);
  return (result.rows[0] as { r2_key: string }).r2_key;
}

export async function versionRow(versionId: number) {
  const result = await testDb().execute(sql`select version_id, file_id, version_number, status, parse_status, completed_at, updated_at
    from file_version where version_id = ${versionId}`);
  return result.rows[0] as { version_id: number; file_id: number; version_number: number | null; status: string; parse_status: string | null } | undefined;
}
