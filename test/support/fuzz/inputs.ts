import type { Random } from './random.js';

/**
 * Hostile values the attacks put on the wire: room IDs that become NATS subjects, queries
 * that are huge or deep, JSON of the wrong shape, bytes that are not UTF-8.
 *
 * Each carries a label for reports and tags naming the failure class it is known to
 * trigger, so a local run can leave a class out (`FUZZ_EXCLUDE`) while it is being fixed.
 */
export interface Hostile<T> {
  readonly value: T;
  readonly label: string;
  readonly tags: readonly string[];
}

/** Failure classes found by this suite; see the top of test/fuzz.e2e.ts. */
export const Tags = {
  /** Anything that makes `ws` emit 'error' on a legacy (graphql-ws sub-protocol) socket. */
  legacyWsError: 'legacy-ws-error',
  /** A room ID whose subject is longer than a NATS control line (4 KiB). */
  longSubject: 'long-subject',
  /** An upgrade the router refuses itself (wrong path or sub-protocol), then a TCP reset. */
  upgradeReset: 'upgrade-reset',
  /** A query nested deeper than the parser's stack. */
  deepNesting: 'deep-nesting',
  /** A message only a server sends (next, connection_ack, error), sent by a client. */
  serverMessage: 'server-message',
  /** graphql-transport-ws: subscribe, complete and subscribe again with one id, at once. */
  reusedId: 'reused-id',
  /** Distinct valid queries of tens of kilobytes, each kept by the operation cache. */
  hugeQueryCache: 'huge-query-cache',
} as const;

export const VICTIM_ROOM = 'victim';

/** The victims' operation; hostile clients send it too, to join and leave their group. */
export const ROOM_SUBSCRIPTION =
  'subscription Room($roomID: ID!) { messageAdded(roomID: $roomID) { id text } }';

/**
 * A GraphQL request as JSON text, which a WebSocket message embeds as its payload and an
 * HTTP request sends as its body. Text, not a value: some are too deep for JSON.stringify.
 */
export type Payload = Hostile<string>;

const hostile = <T>(value: T, label: string, ...tags: string[]): Hostile<T> => ({
  value,
  label,
  tags,
});

/** NATS refuses a control line (`SUB <subject> <sid>`) longer than 4096 bytes. */
const subjectTags = (roomID: unknown): string[] =>
  typeof roomID === 'string' && Buffer.byteLength(`room.${roomID}.messages`) > 4000
    ? [Tags.longSubject]
    : [];

/** A `roomID` argument: valid, refused (wildcards, separators), odd, huge or not a string. */
export function roomID(rng: Random): Hostile<unknown> {
  const [value, label] = rng.weighted<() => [unknown, string]>([
    [4, () => [VICTIM_ROOM, 'the victims’ room']],
    [4, () => [`fuzz-${rng.string(rng.range(1, 6))}`, 'a random room']],
    [
      3,
      () => [
        rng.pick([
          '>',
          '*',
          '.',
          '',
          ' ',
          'a.b',
          'a b',
          'a\tb',
          '\n',
          '1.>',
          '..',
          'victim.',
          '*x',
        ]),
        'a wildcard, separator or white space',
      ],
    ],
    [1, () => ['victim\r\nPUB room.victim.messages 2\r\n{}', 'a NATS protocol injection']],
    [
      1,
      () => [
        rng.pick(['\u0000', '\u0001', '\u001b', '\u007f', '\u0085', '\u00a0', '\u2028', '\ufeff']) +
          rng.string(2),
        'a control or odd white-space character',
      ],
    ],
    [2, () => [rng.pick(['é', '😀', '\ud800', '名前', 'Ω≈ç√']), 'non-ASCII']],
    [1, () => [rng.unicode(rng.range(1, 40)), 'random Unicode']],
    [1, () => ['{{ args.roomID }}', 'a template expression']],
    [0.6, () => ['x'.repeat(5_000), '5,000 characters']],
    [0.3, () => ['😀'.repeat(1_100), '1,100 emoji (4,400 bytes)']],
    [1, () => ['r'.repeat(rng.range(100, 3_900)), 'hundreds to thousands of characters']],
    [
      2,
      () => [
        rng.pick<unknown>([5, 0, -1, 1.5, true, null, {}, [], ['victim'], 1e308]),
        'not a string',
      ],
    ],
  ])();
  return hostile(value, `roomID ${preview(value)} (${label})`, ...subjectTags(value));
}

const payload = (value: unknown, label: string, ...tags: string[]): Payload =>
  hostile(JSON.stringify(value), label, ...tags);

/** A subscription request, most often valid, for a room from `roomID`, inline or a variable. */
export function roomSubscription(rng: Random): Payload {
  const room = roomID(rng);
  if (rng.chance(0.2)) {
    // The other event field: its argument becomes a token of another subject.
    const query = 'subscription ($id: ID!) { scrapeJobState(id: $id) { id status } }';
    return payload(
      { query, variables: { id: room.value } },
      `scrapeJobState ${room.label}`,
      ...room.tags,
    );
  }
  if (rng.chance(0.6) || typeof room.value !== 'string') {
    return payload(
      { query: ROOM_SUBSCRIPTION, variables: { roomID: room.value } },
      room.label,
      ...room.tags,
    );
  }
  const inline = `subscription { messageAdded(roomID: ${JSON.stringify(room.value)}) { id } }`;
  return payload({ query: inline }, `${room.label} inline`, ...room.tags);
}

const aliases = (count: number, field: string, suffix = ''): string =>
  Array.from({ length: count }, (_, i) => `a${i}${suffix}: ${field}`).join(' ');

// Built once: the texts are large and the same in every run.
const FRAGMENT_CHAIN =
  '{ user(id: "1") { ...F0 } } ' +
  Array.from(
    { length: 500 },
    (_, i) => `fragment F${i} on User { ${i === 499 ? 'name' : `...F${i + 1}`} }`,
  ).join(' ');
const INTROSPECTION_DEPTH =
  '{ __type(name: "Message") { fields { type ' +
  '{ ofType '.repeat(500) +
  '{ name }' +
  ' }'.repeat(500) +
  ' } } }';

/** Queries that are huge, deep or pathological, valid or not. */
export function hugeQuery(rng: Random): Payload {
  return rng.weighted<() => Payload>([
    [2, () => payload({ query: `{ ${aliases(5_000, '__typename')} }` }, '5,000 aliases')],
    [
      3,
      () =>
        payload(
          { query: `{ ${aliases(5_000, '__typename', `_${rng.string(6)}`)} }` },
          '5,000 aliases, a new text each time',
          Tags.hugeQueryCache,
        ),
    ],
    [
      1,
      () =>
        payload(
          { query: `subscription { ${aliases(5_000, 'messageAdded(roomID: "victim") { id }')} }` },
          'a subscription of 5,000 root fields',
        ),
    ],
    [1, () => payload({ query: FRAGMENT_CHAIN }, 'a chain of 500 fragments')],
    [1, () => payload({ query: INTROSPECTION_DEPTH }, 'selections 500 deep')],
    [
      1,
      () =>
        payload(
          { query: `{ ${'user(id: "1") { '.repeat(500)}name${' }'.repeat(500)} }` },
          'fields 500 deep that the schema does not have',
        ),
    ],
    [
      1,
      () => {
        const depth = rng.range(5_000, 40_000);
        return payload(
          { query: `{ ${'a { '.repeat(depth)}b${' }'.repeat(depth)} }` },
          `selections ${depth} deep`,
          Tags.deepNesting,
        );
      },
    ],
    [1, () => payload({ query: '{'.repeat(rng.range(1_000, 100_000)) }, 'thousands of "{"')],
    [
      1,
      () =>
        payload(
          {
            query: 'query ($id: ID!) { user(id: $id) { name } }',
            variables: { id: 'i'.repeat(rng.range(100_000, 500_000)) },
          },
          'a variable of hundreds of kilobytes',
        ),
    ],
    [
      1,
      () =>
        payload(
          { query: `{ user(id: "${'s'.repeat(300_000)}") { name } }` },
          'a string literal of 300 KB',
        ),
    ],
    [1, () => payload({ query: `{ ${'f'.repeat(100_000)} }` }, 'a field name of 100 KB')],
    [
      1,
      () =>
        payload(
          {
            query: `query (${Array.from({ length: 10_000 }, (_, i) => `$v${i}: ID`).join(' ')}) { __typename }`,
          },
          '10,000 variable definitions',
        ),
    ],
    [
      1,
      () =>
        payload(
          {
            query: Array.from({ length: 1_000 }, (_, i) => `query Q${i} { __typename }`).join(' '),
            operationName: rng.pick(['Q500', 'Q999', 'nope', null]),
          },
          '1,000 operations in one document',
        ),
    ],
    [
      1,
      () =>
        payload(
          { query: `{ __typename ${'@skip(if: false) '.repeat(5_000)}}` },
          '5,000 directives on one field',
        ),
    ],
    [
      1,
      () => {
        const depth = rng.range(1_000, 50_000);
        const roomID = `${'['.repeat(depth)}"victim"${']'.repeat(depth)}`;
        return hostile(
          `{"query":${JSON.stringify(ROOM_SUBSCRIPTION)},"variables":{"roomID":${roomID}}}`,
          `a variable nested ${depth} arrays deep`,
        );
      },
    ],
  ])();
}

/** A GraphQL payload whose parts have the wrong types, for transports that parse it. */
export function wrongPayload(rng: Random): Payload {
  const query = ROOM_SUBSCRIPTION;
  const variables = { roomID: VICTIM_ROOM };
  return rng.pick<Payload>([
    payload('a string', 'a string payload'),
    payload([query], 'an array payload'),
    payload(null, 'a null payload'),
    payload(42, 'a number payload'),
    payload({}, 'an empty payload'),
    payload({ query: 5 }, 'a number query'),
    payload({ query: { kind: 'Document' } }, 'an object query'),
    payload({ query: [query] }, 'an array query'),
    payload({ query, variables: 'roomID=victim' }, 'string variables'),
    payload({ query, variables: [VICTIM_ROOM] }, 'array variables'),
    payload({ query, variables: { roomID: { $gt: '' } } }, 'an object for an ID'),
    payload({ query, variables, operationName: {} }, 'an object operationName'),
    payload({ query, variables, operationName: 'Nope' }, 'an unknown operationName'),
    payload({ query, variables, extensions: 'x' }, 'string extensions'),
    hostile(
      `{"query":${JSON.stringify(query)},"variables":{"roomID":"victim","__proto__":{"roomID":">"}}}`,
      'a __proto__ key',
    ),
    payload({ query: '' }, 'an empty query'),
    payload({ query, variables, operationName: 'O'.repeat(100_000) }, 'an operationName of 100 KB'),
    payload({ query: '{ users @defer { name } }' }, 'an unknown directive'),
    payload({ query: '{ __schema { types { name fields { name } } } }' }, 'introspection'),
    payload([{ query: '{ __typename }' }, { query, variables }], 'a batch'),
    payload({ query: ' \n\t ' }, 'a blank query'),
    payload({ query: 'subscription { messageAdded(roomID: "victim") { nope } }' }, 'a bad field'),
    payload(
      { query: 'mutation { addMessage(roomID: "victim") { id } }' },
      'a mutation missing arguments',
    ),
    payload({ query: `query { ${'\u0000'} }` }, 'a NUL in the query'),
    payload({ query: rng.unicode(rng.range(1, 200)) }, 'a random Unicode query'),
    payload({ query: truncate(rng, query) }, 'a truncated query'),
    hostile(truncate(rng, JSON.stringify({ query, variables })), 'truncated JSON'),
  ]);
}

/** A valid message cut short: JSON that ends anywhere. */
export function truncate(rng: Random, text: string): string {
  return text.slice(0, rng.int(text.length));
}

/** Protocol messages of the wrong JSON types for graphql-transport-ws or the legacy protocol. */
export function wrongMessage(rng: Random, legacy: boolean): Hostile<string> {
  const start = legacy ? 'start' : 'subscribe';
  const stop = legacy ? 'stop' : 'complete';
  const payload = { query: ROOM_SUBSCRIPTION, variables: { roomID: VICTIM_ROOM } };
  const message = (value: unknown, label: string): Hostile<string> =>
    hostile(JSON.stringify(value), label);
  return rng.pick<() => Hostile<string>>([
    () => message({ type: 5 }, 'a number type'),
    () => message({ type: null }, 'a null type'),
    () => message({ type: ['connection_init'] }, 'an array type'),
    () => message({ type: 'CONNECTION_INIT' }, 'a type in capitals'),
    () =>
      hostile('{"type":"connection_ack"}', 'connection_ack from the client', Tags.serverMessage),
    () =>
      hostile(
        JSON.stringify({ type: legacy ? 'data' : 'next', id: '1', payload: {} }),
        'a result from the client',
        Tags.serverMessage,
      ),
    () =>
      hostile(
        JSON.stringify({ type: 'error', id: '1', payload: [{ message: 'x' }] }),
        'an error from the client',
        Tags.serverMessage,
      ),
    () => message({ type: start, id: {}, payload }, 'an object id'),
    () => message({ type: start, id: 7, payload }, 'a number id'),
    () => message({ type: start, id: null, payload }, 'a null id'),
    () => message({ type: start, payload }, 'no id'),
    () => message({ type: start, id: '', payload }, 'an empty id'),
    () => message({ type: start, id: 'i'.repeat(rng.range(1_000, 200_000)), payload }, 'a huge id'),
    () =>
      message(
        { type: start, id: rng.pick(['__proto__', 'constructor', 'toString']), payload },
        'a prototype id',
      ),
    () => {
      const wrong = wrongPayload(rng);
      return hostile(`{"type":"${start}","id":"1","payload":${wrong.value}}`, wrong.label);
    },
    () => message({ type: start, id: '1' }, 'no payload'),
    () => message({ type: stop, id: 5 }, `a number ${stop} id`),
    () => message({ type: stop }, `a ${stop} without id`),
    () =>
      message(
        { type: 'connection_init', payload: rng.pick(['x', 5, [], null, true]) },
        'a wrong init payload',
      ),
    () => message({ type: 'ping', payload: 'x' }, 'a string ping payload'),
    () => message({ type: 'pong', payload: [] }, 'an array pong payload'),
    () =>
      message({ type: 'connection_terminate', id: {} }, 'connection_terminate with an object id'),
    () => hostile('{"__proto__":{"type":"connection_init"}}', 'a type only in __proto__'),
    () => hostile(rng.pick(['[]', '5', '"x"', 'null', 'true', '{}', '', ' ']), 'not an object'),
    () => hostile('{"type":"connection_init","type":"subscribe","id":"1"}', 'a duplicate key'),
    () => hostile(`{"type":"connection_init"}${'\u0000'}`, 'a trailing NUL'),
    () => hostile('\ufeff{"type":"connection_init"}', 'a byte-order mark'),
  ])();
}

/** Byte sequences no valid UTF-8 text contains. */
const INVALID_UTF8: readonly (readonly number[])[] = [
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xc3],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

/** A protocol message with a byte sequence that is not UTF-8 somewhere inside. */
export function invalidUtf8(rng: Random, message: string): Hostile<Buffer> {
  const text = Buffer.from(message);
  const at = rng.int(text.length + 1);
  const bad = Buffer.from(rng.pick(INVALID_UTF8));
  return hostile(
    Buffer.concat([text.subarray(0, at), bad, text.subarray(at)]),
    `bytes ${bad.toString('hex')} at ${at} of ${preview(message)}`,
  );
}

/** A short, printable rendering of any value for reports. */
export function preview(value: unknown, max = 60): string {
  let text: string;
  try {
    text =
      typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length <= max) return text;
  return `${text.slice(0, max)}…(${text.length} chars)`;
}
