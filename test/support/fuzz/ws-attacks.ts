import type { Attack, AttackContext } from './campaign.js';
import {
  hugeQuery,
  invalidUtf8,
  roomSubscription,
  ROOM_SUBSCRIPTION,
  Tags,
  truncate,
  VICTIM_ROOM,
  wrongMessage,
} from './inputs.js';
import type { Random } from './random.js';
import { protocolMessages, SUB_PROTOCOL, WsSession, type Dialect } from './ws-client.js';

/**
 * Hostile messages in well-formed WebSocket frames, over both protocols: what a client
 * library (or a script) can send. Each attack opens one connection, sends its inputs,
 * makes sure the router has read them (`sync`) and ends the connection one way or another.
 */

const VICTIM_PAYLOAD = JSON.stringify({
  query: ROOM_SUBSCRIPTION,
  variables: { roomID: VICTIM_ROOM },
});

const dialect = (rng: Random): Dialect => rng.pick<Dialect>(['modern', 'legacy']);

/** Mostly one of the router's protocols; sometimes none, an unknown one, or several. */
function offer(rng: Random): string[] | undefined {
  return rng.weighted<string[] | undefined>([
    [8, [SUB_PROTOCOL.modern]],
    [8, [SUB_PROTOCOL.legacy]],
    [1, undefined],
    [1, ['mqtt']],
    [1, [SUB_PROTOCOL.legacy, SUB_PROTOCOL.modern]],
    [1, ['mqtt', SUB_PROTOCOL.legacy]],
  ]);
}

const ending = (rng: Random): 'close' | 'terminate' => (rng.chance(0.5) ? 'close' : 'terminate');

/** Opens a session, maybe initialises it, runs `send`, syncs and ends the connection. */
async function session(
  context: AttackContext,
  protocols: string[] | undefined,
  init: boolean,
  send: (session: WsSession, name: string) => void | Promise<void>,
): Promise<void> {
  const ws = await WsSession.open(context, protocols);
  if (!ws) return;
  if (init) await ws.init();
  await send(ws, ws.dialect ?? `offering ${JSON.stringify(protocols ?? [])}`);
  await ws.sync();
  await ws.end(ending(context.rng));
}

export const wsAttacks: readonly Attack[] = [
  {
    name: 'ws:random-bytes',
    runs: 300,
    async run(context) {
      const { rng } = context;
      const binary = rng.chance(0.5);
      const protocols = offer(rng);
      // Random bytes in a text frame are almost never UTF-8, which ws refuses with an error.
      // The router takes graphql-ws (legacy) only when graphql-transport-ws is not offered.
      const legacy =
        protocols?.includes(SUB_PROTOCOL.legacy) && !protocols.includes(SUB_PROTOCOL.modern);
      if (!binary && legacy && !context.include([Tags.legacyWsError])) return;
      await session(context, protocols, rng.chance(0.5), (ws, name) => {
        for (let i = rng.range(1, 3); i > 0; i--) {
          const bytes = rng.bytes(rng.range(1, 2_048));
          ws.send(
            bytes,
            `${name}: ${bytes.length} random bytes, ${binary ? 'binary' : 'text'}`,
            binary,
          );
        }
      });
    },
  },
  {
    name: 'ws:invalid-utf8',
    runs: 200,
    async run(context) {
      const { rng } = context;
      const which = dialect(rng);
      if (which === 'legacy' && !context.include([Tags.legacyWsError])) return;
      const messages = protocolMessages(which);
      await session(context, [SUB_PROTOCOL[which]], rng.chance(0.5), (ws, name) => {
        const base = rng.pick([
          messages.init,
          messages.subscribe('1', VICTIM_PAYLOAD),
          messages.complete('1'),
        ]);
        const bad = invalidUtf8(rng, base);
        ws.send(bad.value, `${name}: ${bad.label}`);
      });
    },
  },
  {
    name: 'ws:truncated-json',
    runs: 300,
    async run(context) {
      const { rng } = context;
      const protocols = offer(rng);
      await session(context, protocols, rng.chance(0.6), (ws, name) => {
        const messages = protocolMessages(ws.dialect ?? 'modern');
        const whole = rng.pick([
          messages.init,
          messages.subscribe('1', VICTIM_PAYLOAD),
          messages.complete('1'),
        ]);
        const cut = truncate(rng, whole);
        ws.send(
          cut,
          `${name}: ${JSON.stringify(cut.slice(-30))} (${cut.length} of ${whole.length})`,
        );
      });
    },
  },
  {
    name: 'ws:wrong-types',
    runs: 600,
    async run(context) {
      const { rng } = context;
      await session(context, offer(rng), rng.chance(0.6), (ws, name) => {
        for (let i = rng.range(1, 3); i > 0; i--) {
          const message = wrongMessage(rng, ws.dialect === 'legacy');
          if (!context.include(message.tags)) continue;
          ws.send(message.value, `${name}: ${message.label} ${message.value.slice(0, 60)}`);
        }
      });
    },
  },
  {
    name: 'ws:before-init',
    runs: 200,
    async run(context) {
      const { rng } = context;
      const which = dialect(rng);
      const messages = protocolMessages(which);
      await session(context, [SUB_PROTOCOL[which]], false, async (ws, name) => {
        for (let i = rng.range(1, 3); i > 0; i--) {
          const message = rng.pick([
            messages.subscribe(String(i), VICTIM_PAYLOAD),
            messages.complete(String(i)),
            '{"type":"ping"}',
            '{"type":"connection_terminate"}',
          ]);
          ws.send(message, `${name}: ${message.slice(0, 60)} before connection_init`);
        }
        if (rng.chance(0.5)) await ws.init();
      });
    },
  },
  {
    name: 'ws:double-init',
    runs: 200,
    async run(context) {
      const { rng } = context;
      const which = dialect(rng);
      await session(context, [SUB_PROTOCOL[which]], rng.chance(0.3), (ws, name) => {
        for (let i = rng.range(2, 4); i > 0; i--) {
          const payload = rng.pick([
            '',
            ',"payload":{}',
            ',"payload":{"token":"x"}',
            ',"payload":null',
          ]);
          ws.send(`{"type":"connection_init"${payload}}`, `${name}: connection_init again`);
        }
      });
    },
  },
  {
    name: 'ws:flood',
    runs: 60,
    async run(context) {
      const { rng } = context;
      const which = dialect(rng);
      const ws = await WsSession.open(context, [SUB_PROTOCOL[which]]);
      if (!ws || !(await ws.init())) return;
      await flood(context, ws, which);
      // Leave with subscriptions open or after completing them, politely or not.
      await ws.end(ending(rng));
    },
  },
  {
    name: 'ws:odd-rooms',
    runs: 250,
    async run(context) {
      const { rng } = context;
      const which = dialect(rng);
      const messages = protocolMessages(which);
      const ws = await WsSession.open(context, [SUB_PROTOCOL[which]]);
      if (!ws || !(await ws.init())) return;
      const ids: string[] = [];
      for (let i = rng.range(1, 8); i > 0; i--) {
        const request = roomSubscription(rng);
        if (!context.include(request.tags)) continue;
        ids.push(String(i));
        ws.send(messages.subscribe(String(i), request.value), `${which}: ${request.label}`);
      }
      await ws.sync();
      if (rng.chance(0.5)) for (const id of ids) ws.send(messages.complete(id));
      await ws.end(ending(rng));
    },
  },
  {
    name: 'ws:huge-queries',
    runs: 80,
    async run(context) {
      const { rng } = context;
      const which = dialect(rng);
      const request = hugeQuery(rng);
      if (!context.include(request.tags)) return;
      const ws = await WsSession.open(context, [SUB_PROTOCOL[which]]);
      if (!ws || !(await ws.init())) return;
      const answered = ws.next(
        (m) => m['id'] === 'q' && (m['type'] === 'complete' || m['type'] === 'error'),
      );
      ws.send(protocolMessages(which).subscribe('q', request.value), `${which}: ${request.label}`);
      await answered;
      await ws.end(ending(rng));
    },
  },
  {
    name: 'ws:oversized',
    runs: 24,
    async run(context) {
      const { rng } = context;
      const which = dialect(rng);
      if (which === 'legacy' && !context.include([Tags.legacyWsError])) return;
      await session(context, [SUB_PROTOCOL[which]], rng.chance(0.5), (ws, name) => {
        const size = 1_048_576 + rng.range(1, 65_536);
        const pad = 'p'.repeat(size);
        const message = rng.pick([
          `{"type":"connection_init","payload":{"pad":"${pad}"}}`,
          protocolMessages(which).subscribe(
            '1',
            JSON.stringify({ query: `{ __typename }${' '.repeat(size)}` }),
          ),
        ]);
        ws.send(
          message,
          `${name}: a message of ${message.length} bytes, over maxPayloadBytes`,
          rng.chance(0.2),
        );
      });
    },
  },
];

/**
 * Subscribes and completes, tens to hundreds of times, without waiting for answers: to the
 * victims' room (joining and leaving their group) and others, reusing ids right after
 * completing them, completing ids that never were, and now and then subscribing twice
 * with one id (graphql-transport-ws closes with 4409; the legacy protocol replaces it).
 */
async function flood(context: AttackContext, ws: WsSession, which: Dialect): Promise<void> {
  const { rng } = context;
  const messages = protocolMessages(which);
  const open: string[] = [];
  let nextId = 0;
  // The victims' room, two shared with other floods, and now and then one of its own.
  const rooms = [VICTIM_ROOM, `flood-${rng.int(8)}`, `flood-${rng.int(8)}`];
  const room = (): string => (rng.chance(0.2) ? `flood-${rng.string(6)}` : rng.pick(rooms));
  const subscription = (): string =>
    JSON.stringify({ query: ROOM_SUBSCRIPTION, variables: { roomID: room() } });
  const total = rng.range(20, 200);
  for (let sent = 0; sent < total && ws.isOpen; sent++) {
    const action = rng.weighted<string>([
      [4, 'subscribe'],
      [3, 'complete'],
      [3, 'resubscribe'],
      [1, 'complete-unknown'],
      [1, 'query'],
      [0.2, 'duplicate'],
    ]);
    if (action === 'subscribe' || (action === 'complete' && open.length === 0)) {
      const id = String(nextId++);
      open.push(id);
      ws.send(messages.subscribe(id, subscription()), `${which} flood: subscribe ${id}`);
    } else if (action === 'complete') {
      const id = open.splice(rng.int(open.length), 1)[0]!;
      ws.send(messages.complete(id), `${which} flood: complete ${id}`);
    } else if (action === 'resubscribe') {
      // Subscribe, complete and subscribe again with one id, in one burst.
      if (which === 'modern' && !context.include([Tags.reusedId])) continue;
      const id = open.length > 0 ? rng.pick(open) : String(nextId++);
      if (!open.includes(id))
        ws.send(messages.subscribe(id, subscription()), `${which} flood: subscribe ${id}`);
      ws.send(messages.complete(id), `${which} flood: complete ${id}`);
      ws.send(messages.subscribe(id, subscription()), `${which} flood: subscribe ${id} again`);
      if (!open.includes(id)) open.push(id);
      sent += 2;
    } else if (action === 'complete-unknown') {
      ws.send(
        messages.complete(`never-${rng.int(1_000)}`),
        `${which} flood: complete an unknown id`,
      );
    } else if (action === 'query') {
      ws.send(
        messages.subscribe(`q${nextId++}`, '{"query":"{ __typename }"}'),
        `${which} flood: a query`,
      );
    } else if (open.length > 0) {
      ws.send(
        messages.subscribe(rng.pick(open), subscription()),
        `${which} flood: subscribe an open id`,
      );
    }
  }
  await ws.sync();
  if (rng.chance(0.4)) {
    for (const id of open) ws.send(messages.complete(id));
    await ws.sync();
  }
}
