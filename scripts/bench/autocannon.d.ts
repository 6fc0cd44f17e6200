/** The part of autocannon's API the bench uses (the package ships no types). */
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  type RequestSetup = { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer };
  type Request = RequestSetup & {
    setupRequest?: (request: RequestSetup) => RequestSetup;
    onResponse?: (status: number, body: string, context: unknown, headers: Record<string, string>) => void;
  };
  type Options = {
    url: string;
    connections: number;
    duration: number;
    pipelining?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    requests?: Request[];
  };
  export type Result = {
    requests: { total: number; average: number };
    non2xx: number;
    errors: number;
    timeouts: number;
    duration: number;
    statusCodeStats: Record<string, { count: number }>;
  };
  type Instance = EventEmitter & PromiseLike<Result> & { stop(): void };
  export default function autocannon(options: Options): Instance;
}
