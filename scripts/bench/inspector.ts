/**
 * A session on one Worker's V8 inspector in the bench's runtime (Miniflare serves each
 * isolate's at `/core:user:<worker name>`): requests answered by id, in order; events
 * (messages without an id, such as heap snapshot chunks) to the listeners. Used by the
 * memory watch (memory.ts) and the CPU profile (profile.ts).
 */
import WebSocket from "ws";

export type InspectorMessage = { id?: number; method?: string; params?: Record<string, unknown>; result?: unknown };

export type InspectorSession = {
  /** Answers the reply, or an empty message once the socket is closed. */
  call(method: string, params?: unknown): Promise<InspectorMessage>;
  onEvent(listener: (message: InspectorMessage) => void): void;
  close(): void;
};

export async function openInspector(inspectorUrl: URL, workerName: string): Promise<InspectorSession> {
  const socket = new WebSocket(new URL(`/core:user:${workerName}`, inspectorUrl).href, { maxPayload: 1024 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let nextId = 0;
  const waiting = new Map<number, (message: InspectorMessage) => void>();
  const listeners: ((message: InspectorMessage) => void)[] = [];
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as InspectorMessage;
    if (message.id === undefined) for (const listener of listeners) listener(message);
    else waiting.get(message.id)?.(message);
  });
  return {
    call: (method, params) =>
      new Promise<InspectorMessage>((resolve) => {
        const id = ++nextId;
        waiting.set(id, (message) => {
          waiting.delete(id);
          resolve(message);
        });
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id, method, params }));
        else resolve({});
      }),
    onEvent: (listener) => listeners.push(listener),
    close: () => socket.close(),
  };
}
