/**
 * Our presigned URLs (aws4fetch's signer) against an independent implementation, the AWS
 * SDK's presigner, for fixed inputs: they must be the same string. The SDK client is
 * configured as one would for R2: path-style, region "auto". Its checksum defaults are
 * set to WHEN_REQUIRED because otherwise it adds CRC32 checksum parameters R2 does not
 * need and our URLs do not carry.
 */
import { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { describe, expect, it } from "vitest";
import { attachmentDisposition } from "../src/storage/content-disposition.ts";
import { presignUrl, type S3Target } from "../src/storage/presign.ts";

const signedAt = new Date("2026-03-04T05:06:07Z");
const credentials = { accessKeyId: "AKIAEXAMPLE0123456789", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const bucket = "grandscale-files";
const key = "org/12/project/345/file/6789/0f8fad5b-d9cb-469f-a165-70867728950e";

const ENDPOINTS = {
  production: "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
  local: "http://127.0.0.1:8787/cdn-cgi/local/r2/s3",
};

function sdkClient(endpoint: string) {
  return new S3Client({
    endpoint,
    region: "auto",
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

function target(endpoint: string): S3Target {
  return { endpoint, bucket, ...credentials };
}

describe.each(Object.entries(ENDPOINTS))("presigned URLs for the %s endpoint", (_name, endpoint) => {
  const s3 = sdkClient(endpoint);

  it("single PUT with Content-Type, Content-Length and Content-Disposition signed", async () => {
    const disposition = attachmentDisposition("Résumé données.csv");
    const ours = await presignUrl(target(endpoint), {
      method: "PUT",
      operation: "PutObject",
      key,
      expiresIn: 3600,
      signedAt,
      headers: { "content-type": "text/csv", "content-length": "1048576", "content-disposition": disposition },
    });
    const theirs = await getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: "text/csv", ContentLength: 1048576, ContentDisposition: disposition }),
      { expiresIn: 3600, signingDate: signedAt, signableHeaders: new Set(["content-type", "content-length", "content-disposition"]) },
    );
    expect(ours).toBe(theirs);
    expect(new URL(ours).searchParams.get("X-Amz-SignedHeaders")).toBe("content-disposition;content-length;content-type;host");
  });

  it("multipart part PUT with its Content-Length signed", async () => {
    const uploadId = "AAEAAQ+/aBc=_x-y.z~";
    const ours = await presignUrl(target(endpoint), {
      method: "PUT",
      operation: "UploadPart",
      key,
      expiresIn: 7 * 24 * 3600,
      signedAt,
      headers: { "content-length": "5242880" },
      query: { partNumber: "3", uploadId },
    });
    const theirs = await getSignedUrl(
      s3,
      new UploadPartCommand({ Bucket: bucket, Key: key, PartNumber: 3, UploadId: uploadId, ContentLength: 5242880 }),
      { expiresIn: 7 * 24 * 3600, signingDate: signedAt, signableHeaders: new Set(["content-length"]) },
    );
    expect(ours).toBe(theirs);
  });

  it("GET overriding Content-Disposition with the original, non-ASCII filename", async () => {
    const disposition = attachmentDisposition(`naïve "quoted" (1)*.csv`);
    const ours = await presignUrl(target(endpoint), {
      method: "GET",
      operation: "GetObject",
      key,
      expiresIn: 300,
      signedAt,
      query: { "response-content-disposition": disposition },
    });
    const theirs = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: disposition }), {
      expiresIn: 300,
      signingDate: signedAt,
    });
    expect(ours).toBe(theirs);
  });

  it("a key that needs percent-encoding", async () => {
    const awkward = "tests/a b+c/ümlaut (1)/~tilde*.csv";
    const ours = await presignUrl(target(endpoint), { method: "GET", operation: "GetObject", key: awkward, expiresIn: 60, signedAt });
    const theirs = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: awkward }), { expiresIn: 60, signingDate: signedAt });
    expect(ours).toBe(theirs);
  });
});

describe("Content-Disposition", () => {
  it("carries an ASCII fallback and the exact name per RFC 6266 / RFC 8187", () => {
    expect(attachmentDisposition("report.pdf")).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    expect(attachmentDisposition(`naïve "q" 100%.csv`)).toBe(
      `attachment; filename="naive _q_ 100_.csv"; filename*=UTF-8''na%C3%AFve%20%22q%22%20100%25.csv`,
    );
    expect(attachmentDisposition("数据 (v2).csv")).toBe(`attachment; filename="__ (v2).csv"; filename*=UTF-8''%E6%95%B0%E6%8D%AE%20%28v2%29.csv`);
  });
});
