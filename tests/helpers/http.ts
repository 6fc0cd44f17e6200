import { SELF } from "cloudflare:test";

export type ApiResponse<T = unknown> = {
  status: number;
  headers: Headers;
  body: T;
  roundTrips: number | null;
};

/** The database round trips the request made, read from its Server-Timing header. */
export function roundTripsOf(headers: Headers): number | null {
  const match = /db;dur=[\d.]+;desc="(\d+) round trips"/.exec(headers.get("server-timing") ?? "");
  return match ? Number(match[1]) : null;
}

/**
 * The body as text; a stream that never ends (GET /events/stream, `text/event-stream`)
 * is closed unread, so callers that only look at status and headers do not hang.
 */
export async function bodyText(response: Response): Promise<string> {
  if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    await response.body?.cancel();
    return "";
  }
  return response.text();
}

/** A request to the Worker under test, through its real `fetch` entry point. */
export async function request<T = any>(
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; headers?: Record<string, string>; token?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await SELF.fetch(`http://api.test${path}`, { method, headers, body });
  const text = await bodyText(response);
  const contentType = response.headers.get("content-type") ?? "";
  return {
    status: response.status,
    headers: response.headers,
    body: (contentType.includes("json") && text ? JSON.parse(text) : text) as T,
    roundTrips: roundTripsOf(response.headers),
  };
}
