/**
 * A real HTTP endpoint for webhook deliveries, started by the global setup (in Node) so
 * the Worker's fetch reaches it over the network as in production. Each test uses its
 * own path name (`/hooks/<name>`) and steers it through `/_control/<name>`:
 * - `PUT {"mode": "ok" | "fail" | "timeout"}`: answer 204, answer 500, or hold the
 *   request without answering (longer than the tests' WEBHOOK_TIMEOUT_MS);
 * - `GET`: what it received, in order (headers and raw body);
 * - `DELETE`: forget it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Mode = "ok" | "fail" | "timeout";
type Received = { headers: Record<string, string>; body: string; answered: number | null };

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startWebhookReceiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const modes = new Map<string, Mode>();
  const received = new Map<string, Received[]>();
  const held = new Set<ServerResponse>();

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://receiver");
    const [, area, name] = url.pathname.split("/");
    const body = await readBody(request);
    if (area === "hooks" && name && request.method === "POST") {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([key, value]) => [key, String(value)]));
      const mode = modes.get(name) ?? "ok";
      const entry: Received = { headers, body, answered: null };
      received.set(name, [...(received.get(name) ?? []), entry]);
      if (mode === "timeout") {
        held.add(response);
        response.on("close", () => held.delete(response));
        return;
      }
      entry.answered = mode === "ok" ? 204 : 500;
      response.writeHead(entry.answered).end();
      return;
    }
    if (area === "_control" && name) {
      if (request.method === "PUT") modes.set(name, (JSON.parse(body) as { mode: Mode }).mode);
      if (request.method === "DELETE") {
        modes.delete(name);
        received.delete(name);
      }
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(received.get(name) ?? []));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const response of held) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
