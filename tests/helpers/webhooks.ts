/**
 * Webhook test helpers: the receiver the global setup started (tests/setup/webhook-receiver.ts),
 * the dispatcher run until its horizon settles, and an independent Standard Webhooks verifier.
 */
import { inject } from "vitest";
import { dispatchWebhookEvents } from "../../src/features/webhooks/webhook-dispatch.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { testDb } from "./db.ts";

export type Received = { headers: Record<string, string>; body: string; answered: number | null };

/** One named endpoint of the receiver: its URL, its behaviour, what it got. */
export function receiver(name: string) {
  const base = inject("webhookReceiverUrl");
  const control = `${base}/_control/${name}`;
  return {
    url: `${base}/hooks/${name}`,
    async mode(mode: "ok" | "fail" | "timeout") {
      await (await fetch(control, { method: "PUT", body: JSON.stringify({ mode }) })).arrayBuffer();
    },
    async received(): Promise<Received[]> {
      return (await fetch(control)).json();
    },
  };
}

/** The queue messages the dispatcher sends, recorded instead of consumed. */
export function recordingQueue() {
  const sent: unknown[] = [];
  const queue = {
    async send(body: unknown) {
      sent.push(body);
    },
    async sendBatch(messages: { body: unknown }[]) {
      sent.push(...messages.map((message) => message.body));
    },
  } as unknown as Queue;
  return { queue, sent };
}

/** Two dispatcher runs: the first notes the horizon, the second (every transaction of the first's time has ended) settles it. */
export async function dispatchSettled() {
  const { queue, sent } = recordingQueue();
  const deps = { db: testDb(), queue, logger: createLogger({ test: "webhooks" }, "error") };
  await dispatchWebhookEvents(deps);
  const result = await dispatchWebhookEvents(deps);
  return { ...result, sent };
}

function bytesOf(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

/**
 * Standard Webhooks verification, written from the specification (not from our signer):
 * the key is the secret's base64 part after `whsec_`; the signed content is
 * `{webhook-id}.{webhook-timestamp}.{body}`; `webhook-signature` is a space-separated list
 * of `v1,<base64>`; the timestamp must be within 5 minutes.
 */
export async function verifyStandardWebhook(secret: string, headers: Record<string, string>, body: string): Promise<boolean> {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = await crypto.subtle.importKey("raw", bytesOf(secret.replace(/^whsec_/, "")), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  for (const entry of signatures.split(" ")) {
    const [version, signature] = entry.split(",");
    if (version !== "v1" || !signature) continue;
    if (await crypto.subtle.verify("HMAC", key, bytesOf(signature), new TextEncoder().encode(`${id}.${timestamp}.${body}`))) return true;
  }
  return false;
}
