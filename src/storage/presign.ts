/**
 * SigV4 presigned URLs for R2's S3 API (aws4fetch's AwsV4Signer with signQuery).
 *
 * The URLs have the shape the AWS SDK's presigner gives them (tests/presign.test.ts
 * holds the two equal): path-style `<endpoint>/<bucket>/<key>`, region `auto`,
 * `X-Amz-Content-Sha256=UNSIGNED-PAYLOAD`, the operation named in `x-id`, every query
 * parameter RFC 3986-encoded and sorted. Headers passed in are signed, so storage
 * refuses a request that sends different values (a different Content-Length or
 * Content-Type is a 403 SignatureDoesNotMatch, not a silently different object).
 */
import { AwsV4Signer } from "aws4fetch";

export type S3Target = {
  /** The S3 API endpoint without the bucket, no trailing slash. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
};

export type S3Operation = "PutObject" | "UploadPart" | "GetObject" | "HeadObject";

export type PresignRequest = {
  method: "GET" | "HEAD" | "PUT";
  operation: S3Operation;
  key: string;
  /** Seconds the URL stays valid (1 to 604,800). */
  expiresIn: number;
  /** The signing time: the URL is valid from here until `signedAt + expiresIn`. */
  signedAt: Date;
  /** Headers the caller must then send with exactly these values (lower-case names). */
  headers?: Record<string, string>;
  /** Further query parameters: partNumber and uploadId, response-content-disposition … */
  query?: Record<string, string>;
};

// Derived signing keys, per secret and day: reused across requests in the isolate.
const signingKeys = new Map<string, ArrayBuffer>();

/** RFC 3986 percent-encoding, as SigV4's canonical form wants it. */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An object's URL: each key segment encoded, the slashes kept. */
export function objectUrl(target: S3Target, key: string): string {
  return `${target.endpoint}/${encodeRfc3986(target.bucket)}/${key.split("/").map(encodeRfc3986).join("/")}`;
}

/** `20260102T030405Z`, SigV4's timestamp. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, "");
}

function sortedQuery(params: URLSearchParams): string {
  return [...params]
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

export async function presignUrl(target: S3Target, request: PresignRequest): Promise<string> {
  const url = new URL(objectUrl(target, request.key));
  for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
  url.searchParams.set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
  url.searchParams.set("X-Amz-Expires", String(request.expiresIn));
  url.searchParams.set("x-id", request.operation);
  const signer = new AwsV4Signer({
    url: url.toString(),
    method: request.method,
    headers: request.headers ?? {},
    accessKeyId: target.accessKeyId,
    secretAccessKey: target.secretAccessKey,
    service: "s3",
    region: "auto",
    datetime: amzDate(request.signedAt),
    signQuery: true,
    // Content-Type and Content-Length are left out by default; here they are the point.
    allHeaders: true,
    cache: signingKeys,
  });
  const signed = await signer.sign();
  return `${signed.url.origin}${signed.url.pathname}?${sortedQuery(signed.url.searchParams)}`;
}
