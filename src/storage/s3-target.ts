import type { Config } from "../env.ts";
import { ApiError } from "../lib/errors.ts";
import type { S3Target } from "./presign.ts";

/** Where presigned URLs point; 503 when the deployment has no S3 credentials configured. */
export function s3Target(config: Config): S3Target {
  const { R2_S3_ENDPOINT: endpoint, R2_ACCESS_KEY_ID: accessKeyId, R2_SECRET_ACCESS_KEY: secretAccessKey } = config;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    throw new ApiError("service_unavailable", "File storage is not configured on this deployment (R2_S3_ENDPOINT and the R2 access keys).");
  }
  return { endpoint, bucket: config.R2_BUCKET_NAME, accessKeyId, secretAccessKey };
}
