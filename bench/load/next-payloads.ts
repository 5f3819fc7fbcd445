/**
 * Parses the server messages of many subscribers, each distinct `next` payload once: every
 * subscriber of a fan-out group receives the same payload bytes, only the operation id in
 * front of them differs, so parsing each message whole would have the load process parse
 * the same text a thousand times per event (and be the limit of the run, not the server).
 * A message whose envelope is not exactly `{"id":"…","type":"next","payload":…}` is parsed
 * whole. The parsed payloads are shared: readers must not change them.
 */
export class NextPayloads {
  readonly #parsed = new Map<string, unknown>();

  constructor(private readonly maxEntries = 4096) {}

  /** The message in `text`, as `JSON.parse` would give it. */
  parse(text: string): ServerMessage {
    const payloadAt = nextPayloadStart(text);
    if (payloadAt < 0) return JSON.parse(text) as ServerMessage;
    const payloadText = text.slice(payloadAt, -1);
    // A large payload is parsed as it comes: the memo holds only small ones.
    if (payloadText.length > MAX_MEMO_CHARS) return JSON.parse(text) as ServerMessage;
    let payload = this.#parsed.get(payloadText);
    if (payload === undefined) {
      payload = JSON.parse(payloadText) as unknown;
      if (this.#parsed.size >= this.maxEntries) this.#parsed.clear();
      this.#parsed.set(payloadText, payload);
    }
    return {
      id: text.slice(ID_START.length, payloadAt - NEXT_PAYLOAD.length),
      type: 'next',
      payload,
    };
  }
}

export interface ServerMessage {
  id?: string;
  type?: string;
  payload?: unknown;
}

/** Payloads up to this length are kept: 4,096 of them take at most some 64 MiB. */
const MAX_MEMO_CHARS = 8192;
const ID_START = '{"id":"';
const NEXT_PAYLOAD = '","type":"next","payload":';

/**
 * Where the payload starts in a `next` message framed exactly as graphql-ws servers write
 * it, or -1: an id of plain characters (no quote or escape), then the type, then the payload,
 * then the closing brace.
 */
export function nextPayloadStart(text: string): number {
  if (!text.startsWith(ID_START) || !text.endsWith('}')) return -1;
  const at = text.indexOf(NEXT_PAYLOAD, ID_START.length);
  if (at < 0) return -1;
  for (let i = ID_START.length; i < at; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c < 0x20) return -1; // a quote, a backslash, a control
  }
  return at + NEXT_PAYLOAD.length;
}
