// A real HTTP application backend for the proxy tests: node:http on port 0, one handler per path.
// A handler returns the JSON to answer with, or an action: a status code, a raw body, or `hang`
// (never answer; the request stays open until the backend closes). Every request is recorded.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Collector } from '@rotor/testkit';

export interface BackendRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export type BackendAnswer =
  | { json: unknown }
  | { status: number; body?: string }
  | { raw: string }
  | 'hang';

export type Handler = (req: BackendRequest) => BackendAnswer | Promise<BackendAnswer>;

export class ProxyBackend {
  readonly requests = new Collector<BackendRequest>('backend requests');
  private readonly handlers = new Map<string, Handler>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ProxyBackend> {
    let backend: ProxyBackend | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void backend!.handle(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    backend = new ProxyBackend(server, `http://127.0.0.1:${port}`);
    return backend;
  }

  /** Sets the handler of `path` (replacing any earlier one). */
  on(path: string, handler: Handler): this {
    this.handlers.set(path, handler);
    return this;
  }

  endpoint(path: string): string {
    return `${this.url}${path}`;
  }

  /** Requests to `path` received so far. */
  received(path: string): BackendRequest[] {
    return this.requests.items.filter((r) => r.path === path);
  }

  private async handle(path: string, headers: IncomingHttpHeaders, text: string, res: ServerResponse): Promise<void> {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { unparsable: text };
    }
    const req: BackendRequest = { path, headers, body };
    this.requests.push(req);
    const handler = this.handlers.get(path);
    const answer: BackendAnswer = handler === undefined ? { status: 404 } : await handler(req);
    if (answer === 'hang') {
      this.hanging.add(res);
      return;
    }
    if ('json' in answer) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
    } else if ('raw' in answer) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer.raw);
    } else {
      res.writeHead(answer.status).end(answer.body ?? '');
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
