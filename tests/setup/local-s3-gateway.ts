/**
 * Runs in Node (imported by vitest.config.mts). Why it exists: the Workers vitest
 * integration starts one Miniflare per test file on a random port it does not reveal,
 * and Miniflare serves the FILES bucket over S3 (`/cdn-cgi/local/r2/s3/<bucket>`,
 * SigV4-checked) only on that port; `SELF.fetch` goes straight to the Worker and never
 * reaches it. So each Miniflare gets this small reverse proxy on a port known before it
 * starts: the Worker is configured with `R2_S3_ENDPOINT=http://127.0.0.1:<port>/…`, the
 * tests `fetch()` the presigned URLs the API returns as any client would, and the proxy
 * passes the requests on unchanged, Host header included, so Miniflare checks each
 * signature against exactly the URL that was signed. It is what `wrangler dev` does on
 * 127.0.0.1:8787 in front of its own Miniflare.
 *
 * Miniflare's address becomes known once it runs: the LOCAL_S3_GATEWAY service binding
 * (a Node function Miniflare calls with itself) attaches it, called by
 * tests/setup/local-s3.ts before each test file.
 */
import http from "node:http";

export type LocalS3Gateway = {
  /** The origin the Worker signs URLs for, e.g. http://127.0.0.1:41234. */
  origin: string;
  /** Points the gateway at Miniflare's own address. */
  attach(upstream: URL): void;
};

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startLocalS3Gateway(): Promise<LocalS3Gateway> {
  let upstream: URL | undefined;
  const server = http.createServer(async (request, response) => {
    // Storage may refuse a request before reading its body (a bad signature); taking the
    // whole body first keeps both connections in a clean state whatever it answers.
    const body = await readBody(request);
    // One connection per request: no stale keep-alive socket between workerd and here.
    response.shouldKeepAlive = false;
    if (!upstream) {
      response.writeHead(503, { "content-type": "text/plain" }).end("local S3 gateway: Miniflare is not attached yet");
      return;
    }
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers, agent: false },
      (answer) => {
        const { connection: _connection, "keep-alive": _keepAlive, ...headers } = answer.headers;
        response.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(response);
      },
    );
    forwarded.on("error", (error) => {
      if (response.headersSent) return;
      response.writeHead(502, { "content-type": "text/plain" }).end(`local S3 gateway: ${error.message}`);
    });
    forwarded.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  // One gateway per test file's Miniflare; none of them may keep the test run alive.
  server.unref();
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    attach(url) {
      upstream = url;
    },
  };
}
