/**
 * Credentials for the load, obtained the way a client obtains them: sign in through
 * the API (POST /auth/login) and create an API token (POST /api-tokens).
 */
import { BENCH_PASSWORD } from "./dataset.ts";

export async function callApi(base: URL, method: string, path: string, options: { token?: string; body?: unknown } = {}) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: {
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the error message.
  }
  return { status: response.status, headers: response.headers, body: body as Record<string, any> };
}

export async function signIn(base: URL, email: string): Promise<string> {
  const response = await callApi(base, "POST", "/api/v1/auth/login", { body: { email, password: BENCH_PASSWORD } });
  if (response.status !== 200) throw new Error(`login as ${email} answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.access_token as string;
}

export async function createApiToken(base: URL, accessToken: string): Promise<string> {
  const response = await callApi(base, "POST", "/api/v1/api-tokens", { token: accessToken, body: { name: "npm run bench" } });
  if (response.status !== 201) throw new Error(`POST /api-tokens answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body.token as string;
}
