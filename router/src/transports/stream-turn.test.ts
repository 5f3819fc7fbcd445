import { afterEach, describe, expect, it, vi } from 'vitest';
import { GraphQLError } from 'graphql';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { ANONYMOUS } from '../auth/caller.js';
import type { RouterCore } from '../core.js';
import { createLogger } from '../logger.js';
import { createMultipartHandler } from './multipart.js';
import type { StreamHandler } from './result-stream.js';
import { OpenStreams } from './open-streams.js';
import { createSseHandler } from './sse.js';

/**
 * A streaming request waits for its turn (RouterCore.turn) before anything is prepared; a
 * client that leaves meanwhile must start nothing, since nothing would ever end it.
 */
describe.each([
  ['SSE', createSseHandler],
  ['multipart', createMultipartHandler],
] as const)('a %s request waiting for its turn', (_, create) => {
  let server: Server | undefined;
  afterEach(
    () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  );

  /** A handler on a real socket whose core holds every request at `turn` until released. */
  async function held(open?: OpenStreams) {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    let arrived!: (req: IncomingMessage) => void;
    const waiting = new Promise<IncomingMessage>((resolve) => (arrived = resolve));
    const prepare = vi.fn(() =>
      open ? { operation: { kind: 'subscription' } } : [new GraphQLError('refused by the test')],
    );
    const subscribe = vi.fn();
    const core = { turn: () => turn, prepare, subscribe } as unknown as RouterCore;
    const handler: StreamHandler = create({ core, logger: createLogger('silent'), open });
    let handled!: Promise<void>;
    server = createServer((req, res) => {
      handled = handler(req, res, { query: 'subscription { x }' }, ANONYMOUS);
      arrived(req);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = connect(port, '127.0.0.1');
    client.resume();
    client.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-length: 0\r\n\r\n');
    const req = await waiting;
    return { client, req, prepare, subscribe, release, handled: () => handled };
  }

  it('prepares it once its turn comes', async () => {
    const { client, prepare, release, handled } = await held();
    expect(prepare).not.toHaveBeenCalled();
    release();
    await handled();
    expect(prepare).toHaveBeenCalledOnce();
    client.destroy();
  });

  it('starts nothing if the client left before its turn', async () => {
    const { client, req, prepare, release, handled } = await held();
    client.destroy();
    await new Promise((resolve) => req.socket.once('close', resolve));
    release();
    await handled();
    expect(prepare).not.toHaveBeenCalled();
  });

  it('ends it at once, subscribing nothing, if the router began to stop meanwhile', async () => {
    const open = new OpenStreams();
    const { client, subscribe, release, handled } = await held(open);
    let text = '';
    // The chunked body's last chunk: the response has ended (the connection is kept alive).
    const ended = new Promise<void>((resolve) =>
      client.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\r\n0\r\n\r\n')) resolve();
      }),
    );
    open.endAll();
    release();
    await handled();
    await ended;
    expect(subscribe).not.toHaveBeenCalled();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    // Without its closing part (SSE's `complete`, multipart's `--graphql--`): it reconnects.
    expect(dechunk(text)).not.toMatch(/event: complete|--graphql--/);
    expect(open.size).toBe(0);
  });
});

/** The body of a chunked HTTP/1.1 response, its chunks joined. */
function dechunk(response: string): string {
  let rest = response.slice(response.indexOf('\r\n\r\n') + 4);
  let body = '';
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, line), 16);
    if (!(size > 0)) return body;
    body += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}
