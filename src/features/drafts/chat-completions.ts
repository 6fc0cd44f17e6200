/**
 * One call to an OpenAI-compatible `POST {LLM_BASE_URL}/chat/completions`, with the
 * failures a queue consumer must tell apart:
 * - 429: `RetryLater` with the `Retry-After` seconds (or back-off), so the message is
 *   retried then instead of hammering a rate-limited provider;
 * - 5xx, timeouts and network errors: retried here a few times with exponential back-off,
 *   then `RetryLater` (the queue's own back-off takes over);
 * - other 4xx: `LlmRefused`, a permanent failure of the run (wrong key, unknown model);
 * - a 200 whose content is not JSON: `null` content, recorded per row by the caller.
 */
export type LlmSettings = { baseUrl: string; apiKey?: string | undefined; model: string; timeoutMs: number };

export type ChatRequest = { messages: { role: "system" | "user"; content: string }[]; response_format: unknown };

export class RetryLater extends Error {
  override name = "RetryLater";
  readonly delaySeconds: number;
  constructor(message: string, delaySeconds: number) {
    super(message);
    this.delaySeconds = delaySeconds;
  }
}

export class LlmRefused extends Error {
  override name = "LlmRefused";
}

export type CallOptions = { attempts: number; backoffMs: number };
export const DEFAULT_CALL_OPTIONS: CallOptions = { attempts: 3, backoffMs: 1000 };

const MAX_RETRY_AFTER_SECONDS = 900;

/** `Retry-After` as seconds (delta or HTTP date), capped; null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : Math.ceil((Date.parse(header) - now) / 1000);
  if (!Number.isFinite(seconds)) return null;
  return Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_SECONDS);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The model's answer content parsed as JSON, or null when it is not JSON. */
export async function chatCompletion(settings: LlmSettings, request: ChatRequest, options: CallOptions = DEFAULT_CALL_OPTIONS): Promise<unknown> {
  let lastProblem = "";
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    if (attempt > 1) await sleep(options.backoffMs * 2 ** (attempt - 2));
    let response: Response;
    try {
      response = await fetch(`${settings.baseUrl}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}) },
        body: JSON.stringify({ model: settings.model, temperature: 0, ...request }),
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (error) {
      lastProblem = (error as Error).name === "TimeoutError" ? `no answer within ${settings.timeoutMs} ms` : `unreachable: ${(error as Error).message}`;
      continue;
    }
    if (response.status === 429) {
      await response.body?.cancel();
      throw new RetryLater("the model's API is rate limiting (429)", retryAfterSeconds(response.headers.get("retry-after")) ?? 30);
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      lastProblem = `answered ${response.status}`;
      continue;
    }
    if (!response.ok) {
      const detail = (await response.text()).slice(0, 300);
      throw new LlmRefused(`The model's API refused the request (${response.status}): ${detail}`);
    }
    const body = (await response.json().catch(() => null)) as { choices?: { message?: { content?: unknown } }[] } | null;
    const content = body?.choices?.[0]?.message?.content;
    if (typeof content !== "string") return null;
    try {
      return JSON.parse(content) as unknown;
    } catch {
      return null;
    }
  }
  throw new RetryLater(`the model's API failed ${options.attempts} times (last: ${lastProblem})`, 30);
}
