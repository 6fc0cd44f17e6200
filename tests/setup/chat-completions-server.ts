/**
 * A local OpenAI-compatible chat-completions API for the drafting tests: a real HTTP
 * server (started by the global setup, like the Neon gateway) speaking the protocol
 * the draft consumer speaks: `POST /v1/chat/completions` with a bearer key, a
 * `json_schema` response format, `choices[0].message.content` holding JSON.
 *
 * Answers are deterministic, derived from the response format's schema and each row's
 * index (the first enum value shifted by the index, a rating's min plus the index …).
 * Faults are injected per scenario, named by a `scenario:<name>` token in the prompt
 * (the draft's instructions), so concurrent tests never share one:
 * - `rate-<n>`: the first n calls answer 429 with `Retry-After: 7`;
 * - `down-<n>`: the first n calls answer 500;
 * - `slow-<n>`: the first n calls answer after 3 s (beyond the tests' timeout);
 * - `malformed`: the content is not JSON;
 * - `wrong`: every `label`-style answer is a value outside its options.
 * `GET /__calls?scenario=<name>` lists the row indexes each call of a scenario carried.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const TEST_LLM_API_KEY = "test-llm-key";

type Schema = { type?: string; enum?: unknown[]; minimum?: number; maximum?: number; items?: Schema; properties?: Record<string, Schema> };

function answerFor(schema: Schema, rowIndex: number, wrong: boolean): unknown {
  if (schema.enum) return wrong ? "not-an-option" : schema.enum[rowIndex % schema.enum.length];
  switch (schema.type) {
    case "integer": {
      const min = schema.minimum ?? 0;
      const max = schema.maximum ?? min + 100;
      return min + (rowIndex % (max - min + 1));
    }
    case "number":
      return schema.minimum ?? rowIndex;
    case "string":
      return `draft for row ${rowIndex}`;
    case "array":
      // Every option once: a valid multi_label set and a valid ranking; spans: none.
      return schema.items?.enum ? [...schema.items.enum] : [];
    default:
      return null;
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

export async function startChatCompletionsServer() {
  const calls = new Map<string, number[][]>();

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method === "GET" && url.pathname === "/__calls") {
      json(response, 200, calls.get(url.searchParams.get("scenario") ?? "") ?? []);
      return;
    }
    if (request.method !== "POST" || url.pathname !== "/v1/chat/completions") {
      json(response, 404, { error: { message: "not found" } });
      return;
    }
    if (request.headers.authorization !== `Bearer ${TEST_LLM_API_KEY}`) {
      json(response, 401, { error: { message: "invalid api key" } });
      return;
    }
    const body = JSON.parse(await readBody(request)) as {
      messages: { role: string; content: string }[];
      response_format?: { json_schema?: { schema?: Schema } };
    };
    const prompt = body.messages.map((message) => message.content).join("\n");
    const scenario = /scenario:([\w-]+)/.exec(prompt)?.[1] ?? "";
    const rows = (prompt.split("Rows (JSON Lines):\n")[1] ?? "").split("\n").filter(Boolean).map((line) => JSON.parse(line) as { row_index: number });
    const seen = calls.get(scenario) ?? [];
    seen.push(rows.map((row) => row.row_index));
    calls.set(scenario, seen);
    const call = seen.length;

    const fault = /^(rate|down|slow)-(\d+)$/.exec(scenario);
    if (fault && call <= Number(fault[2])) {
      if (fault[1] === "rate") return json(response, 429, { error: { message: "rate limited" } }, { "retry-after": "7" });
      if (fault[1] === "down") return json(response, 500, { error: { message: "internal error" } });
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    const itemProperties = body.response_format?.json_schema?.schema?.properties?.rows?.items?.properties ?? {};
    const content = scenario === "malformed"
      ? "Sure! Here are the answers: {rows: [oops"
      : JSON.stringify({
        rows: rows.map((row) => Object.fromEntries(Object.entries(itemProperties).map(([name, schema]) =>
          [name, name === "row_index" ? row.row_index : answerFor(schema, row.row_index, scenario === "wrong")]))),
      });
    if (!response.writable) return;
    json(response, 200, {
      id: `chatcmpl-${call}`,
      object: "chat.completion",
      model: (body as { model?: string }).model ?? "test-model",
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
      usage: { prompt_tokens: prompt.length, completion_tokens: content.length, total_tokens: prompt.length + content.length },
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
