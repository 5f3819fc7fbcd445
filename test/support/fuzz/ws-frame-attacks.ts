import type { Attack } from './campaign.js';
import { ROOM_SUBSCRIPTION, Tags, VICTIM_ROOM } from './inputs.js';
import type { Random } from './random.js';
import { rawConnect, readHead, socketClosed } from './tcp.js';
import {
  encodeFrame,
  Opcode,
  protocolMessages,
  RawWs,
  SUB_PROTOCOL,
  upgradeRequest,
  type Dialect,
  type UpgradeRequest,
} from './ws-client.js';

/**
 * What no WebSocket library sends: frames that break RFC 6455, frames cut short,
 * connections dropped in the middle of a frame, an upgrade or a subscription, and
 * malformed upgrade requests. Spoken byte by byte over TCP.
 */

const text = (data: string, options?: Parameters<typeof encodeFrame>[2]): Buffer =>
  encodeFrame(Opcode.text, Buffer.from(data), options);

interface Violation {
  readonly label: string;
  readonly bytes: Buffer;
  /** Valid after all: the router should answer connection_init rather than close. */
  readonly valid?: boolean;
}

/** One frame, or a few, that a server must refuse (or, for `valid`, must put together). */
function violation(rng: Random): Violation {
  const init = protocolMessages('modern').init;
  return rng.pick<() => Violation>([
    () => ({ label: 'an unmasked frame', bytes: text(init, { masked: false }) }),
    () => {
      const opcode = rng.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]);
      return { label: `reserved opcode ${opcode}`, bytes: encodeFrame(opcode, rng.bytes(8)) };
    },
    () => {
      const rsv = rng.range(1, 7);
      return {
        label: `RSV bits ${rsv.toString(2)} without an extension`,
        bytes: text(init, { rsv }),
      };
    },
    () => ({
      label: 'a fragmented ping',
      bytes: encodeFrame(Opcode.ping, Buffer.from('x'), { fin: false }),
    }),
    () => ({ label: 'a ping of 200 bytes', bytes: encodeFrame(Opcode.ping, rng.bytes(200)) }),
    () => ({
      label: 'a continuation with nothing to continue',
      bytes: encodeFrame(Opcode.continuation, Buffer.from('}')),
    }),
    () => ({
      label: 'a new text frame inside a fragmented message',
      bytes: Buffer.concat([text('{"type":', { fin: false }), text(init)]),
    }),
    () => {
      const code = rng.pick([0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535]);
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code);
      return {
        label: `a close frame with code ${code}`,
        bytes: encodeFrame(Opcode.close, payload),
      };
    },
    () => ({
      label: 'a close frame of one byte',
      bytes: encodeFrame(Opcode.close, Buffer.from([3])),
    }),
    () => ({
      label: 'a close frame whose reason is not UTF-8',
      bytes: encodeFrame(Opcode.close, Buffer.from([0x03, 0xe8, 0xff, 0xfe])),
    }),
    () => {
      const length = rng.pick([2n ** 21n, 2n ** 40n, 2n ** 53n, 2n ** 63n + 5n]);
      return { label: `a frame announcing ${length} bytes`, bytes: text('', { length }) };
    },
    () => ({
      label: 'fragments of text that is not UTF-8',
      bytes: Buffer.concat([
        encodeFrame(
          Opcode.text,
          Buffer.from([...Buffer.from('{"type":"connection_init","x":"'), 0xc3]),
          {
            fin: false,
          },
        ),
        encodeFrame(Opcode.continuation, Buffer.from([0x28, 0x22, 0x7d])),
      ]),
    }),
    () => {
      const pieces = [...init].map((char, i, all) =>
        encodeFrame(i === 0 ? Opcode.text : Opcode.continuation, Buffer.from(char), {
          fin: i === all.length - 1,
        }),
      );
      return {
        label: `connection_init in ${pieces.length} fragments`,
        bytes: Buffer.concat(pieces),
        valid: true,
      };
    },
    () => {
      const pings = Array.from({ length: rng.range(50, 300) }, () =>
        encodeFrame(Opcode.ping, rng.bytes(8)),
      );
      return {
        label: `${pings.length} pings, then connection_init`,
        bytes: Buffer.concat([...pings, text(init)]),
        valid: true,
      };
    },
  ])();
}

const dialect = (rng: Random): Dialect => rng.pick<Dialect>(['modern', 'legacy']);
const drop = (rng: Random): 'end' | 'destroy' | 'reset' =>
  rng.pick(['end', 'destroy', 'reset'] as const);

export const wsFrameAttacks: readonly Attack[] = [
  {
    name: 'ws:raw-frames',
    runs: 500,
    async run(context) {
      const { rng } = context;
      const which = dialect(rng);
      const bad = violation(rng);
      if (which === 'legacy' && !bad.valid && !context.include([Tags.legacyWsError])) return;
      const ws = await RawWs.open(context, SUB_PROTOCOL[which]);
      if (!ws) return;
      ws.write(bad.bytes, `${which}: ${bad.label}`);
      // The router closes (or, for a valid sequence, acknowledges) once it has read it all.
      await Promise.race([ws.closeCode, ws.text((t) => t.includes('connection_ack'))]);
      await ws.end(drop(rng));
    },
  },
  {
    name: 'ws:drop-mid-frame',
    runs: 300,
    async run(context) {
      const { rng } = context;
      const which = dialect(rng);
      const ws = await RawWs.open(context, SUB_PROTOCOL[which]);
      if (!ws) return;
      const messages = protocolMessages(which);
      if (rng.chance(0.5)) {
        ws.write(text(messages.init));
        await Promise.race([ws.closeCode, ws.text((t) => t.includes('connection_ack'))]);
      }
      const whole = text(
        messages.subscribe(
          '1',
          JSON.stringify({ query: `{ __typename }${' '.repeat(rng.range(10, 300_000))}` }),
        ),
      );
      const cut = rng.range(1, whole.length - 1);
      ws.write(
        whole.subarray(0, cut),
        `${which}: ${cut} of a ${whole.length}-byte frame, then dropped`,
      );
      await ws.end(drop(rng));
    },
  },
  {
    name: 'ws:drop-mid-subscription',
    runs: 300,
    async run(context) {
      const { rng } = context;
      const which = dialect(rng);
      const ws = await RawWs.open(context, SUB_PROTOCOL[which]);
      if (!ws) return;
      const messages = protocolMessages(which);
      ws.write(text(messages.init));
      if (!(await ws.text((t) => t.includes('connection_ack')))) return ws.end('destroy');
      const room = rng.chance(0.5) ? VICTIM_ROOM : `drop-${rng.int(20)}`;
      const payload = JSON.stringify({ query: ROOM_SUBSCRIPTION, variables: { roomID: room } });
      ws.write(
        text(messages.subscribe('1', payload)),
        `${which}: subscribe to ${room}, then dropped`,
      );
      // Sometimes before the router has read it, sometimes after (a query answered later).
      if (rng.chance(0.5)) {
        ws.write(text(messages.subscribe('2', '{"query":"{ __typename }"}')));
        await Promise.race([
          ws.closeCode,
          ws.text((t) => t.includes('"2"') && t.includes('complete')),
        ]);
      }
      await ws.end(drop(rng));
    },
  },
  {
    name: 'ws:upgrade',
    runs: 300,
    async run(context) {
      const { rng } = context;
      const { request, label, refusedByRouter } = oddUpgrade(rng);
      const bytes = upgradeRequest(context.target.port, request);
      // Whole, whole then reset, or cut in the middle of its head (then reset).
      const how = rng.weighted<'whole' | 'reset' | 'cut'>([
        [5, 'whole'],
        [3, 'reset'],
        [2, 'cut'],
      ]);
      if (how === 'reset' && refusedByRouter && !context.include([Tags.upgradeReset])) return;
      const socket = await rawConnect(context);
      if (!socket) return;
      const sent = how === 'cut' ? bytes.slice(0, rng.range(1, bytes.length - 1)) : bytes;
      await new Promise((resolve) => socket.write(sent, resolve));
      context.sent(
        how === 'cut'
          ? `${label}, cut after ${sent.length} of ${bytes.length} bytes`
          : `${label}${how === 'reset' ? ', then a reset' : ''}`,
      );
      if (how !== 'whole') {
        socket.resetAndDestroy();
        return socketClosed(socket);
      }
      const head = await readHead(socket);
      const status = Number(head?.text.slice(9, 12));
      if (status >= 500) context.finding('internal-error', `upgrade answered ${status}`);
      socket.end();
      socket.resume();
      await socketClosed(socket);
    },
  },
];

/** An upgrade request with one thing wrong, and whether the router refuses it before ws. */
function oddUpgrade(rng: Random): {
  request: UpgradeRequest;
  label: string;
  refusedByRouter: boolean;
} {
  const protocol = { 'sec-websocket-protocol': SUB_PROTOCOL.modern };
  return rng.pick<() => { request: UpgradeRequest; label: string; refusedByRouter: boolean }>([
    () => {
      const path = rng.pick([
        '/nope',
        '/graphql/',
        '/GRAPHQL',
        '//graphql',
        '/health',
        '*',
        '/graphql%00',
      ]);
      return {
        request: { path, headers: protocol },
        label: `an upgrade of ${path}`,
        refusedByRouter: true,
      };
    },
    () => {
      const offered = rng.pick([
        'mqtt',
        ',',
        ' , ',
        'x'.repeat(rng.range(100, 8_000)),
        'graphql-wsx',
        'GRAPHQL-WS',
      ]);
      return {
        request: { headers: { 'sec-websocket-protocol': offered } },
        label: `an upgrade offering ${JSON.stringify(offered.slice(0, 20))}`,
        refusedByRouter: true,
      };
    },
    () => {
      const offered = rng.pick([
        'graphql-ws, graphql-ws',
        'graphql-transport-ws, mqtt',
        'mqtt, graphql-ws',
        '',
        'graphql-ws,graphql-transport-ws,graphql-ws',
      ]);
      return {
        request: { headers: { 'sec-websocket-protocol': offered } },
        label: `an upgrade offering ${JSON.stringify(offered)}`,
        refusedByRouter: false,
      };
    },
    () => {
      const key = rng.pick([null, '', 'short', 'not base64!!', 'x'.repeat(5_000)]);
      return {
        request: { headers: { ...protocol, 'sec-websocket-key': key } },
        label: `an upgrade with key ${JSON.stringify(key)?.slice(0, 20)}`,
        refusedByRouter: false,
      };
    },
    () => {
      const version = rng.pick([null, '8', 'x', '13, 8', '']);
      return {
        request: { headers: { ...protocol, 'sec-websocket-version': version } },
        label: `an upgrade with version ${JSON.stringify(version)}`,
        refusedByRouter: false,
      };
    },
    () => {
      const upgrade = rng.pick([null, 'h2c', 'WebSocket', 'websocket, foo', '']);
      return {
        request: { headers: { ...protocol, upgrade } },
        label: `an upgrade with Upgrade: ${JSON.stringify(upgrade)}`,
        refusedByRouter: false,
      };
    },
    () => {
      const method = rng.pick(['POST', 'HEAD', 'PUT', 'OPTIONS']);
      return {
        request: { method, headers: protocol },
        label: `an upgrade with ${method}`,
        refusedByRouter: false,
      };
    },
    () => {
      const extensions = rng.pick([
        'permessage-deflate; client_max_window_bits=99',
        'x; y',
        ';;;',
        'permessage-deflate, permessage-deflate',
      ]);
      return {
        request: { headers: { ...protocol, 'sec-websocket-extensions': extensions } },
        label: `an upgrade asking for extensions ${JSON.stringify(extensions)}`,
        refusedByRouter: false,
      };
    },
  ])();
}
