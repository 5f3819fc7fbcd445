import { describe, expect, it } from 'vitest';
import { nextPrefix } from './graphql-ws.js';
import {
  frameHead,
  headerSize,
  SharedFrames,
  WHOLE_FRAME_MAX_BODY,
  writeHeader,
  type Frame,
} from './shared-frames.js';

/** Reads one frame as RFC 6455 §5.2 lays it out: the oracle the framing is checked against. */
function parseFrame(bytes: Buffer): {
  fin: boolean;
  opcode: number;
  masked: boolean;
  text: string;
} {
  const fin = (bytes[0]! & 0x80) !== 0;
  const opcode = bytes[0]! & 0x0f;
  const masked = (bytes[1]! & 0x80) !== 0;
  let length = bytes[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    length = Number(bytes.readBigUInt64BE(2));
    offset = 10;
  }
  expect(bytes.length - offset).toBe(length);
  return { fin, opcode, masked, text: bytes.subarray(offset).toString('utf8') };
}

/** The bytes a frame puts on the wire. */
const bytesOf = ({ head, body }: Frame): Buffer => (body ? Buffer.concat([head, body]) : head);

const wire = (prefix: string, json: string, frames = new SharedFrames()): Buffer =>
  bytesOf(frames.frame(prefix, json));

describe('frame header', () => {
  it.each([
    [0, [0x81, 0]],
    [125, [0x81, 125]],
    [126, [0x81, 126, 0, 126]],
    [65_535, [0x81, 126, 0xff, 0xff]],
    [65_536, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
    [2 ** 32 + 5, [0x81, 127, 0, 0, 0, 1, 0, 0, 0, 5]],
  ])('for a payload of %i bytes is an unmasked FIN text header', (length, bytes) => {
    const target = Buffer.alloc(10);
    const size = writeHeader(target, length);
    expect(size).toBe(headerSize(length));
    expect([...target.subarray(0, size)]).toEqual(bytes);
  });

  it.each([125, 126, 65_535, 65_536, 70_000])(
    'frames a whole message of %i bytes that parses back to it',
    (length) => {
      const prefix = nextPrefix('1');
      const json = `"${'x'.repeat(length - prefix.length - 3)}"`; // + the closing brace
      const frame = parseFrame(wire(prefix, json));
      expect(frame).toMatchObject({ fin: true, opcode: 1, masked: false });
      expect(Buffer.byteLength(frame.text)).toBe(length);
      expect(JSON.parse(frame.text)).toEqual({
        id: '1',
        type: 'next',
        payload: 'x'.repeat(length - prefix.length - 3),
      });
    },
  );
});

describe('SharedFrames', () => {
  it.each(['1', 'a"b', 'back\\slash', 'line\nbreak', '\u2028', 'ünïcødé 😀', '</script>'])(
    'makes a valid next message for the id %j',
    (id) => {
      const payload = { data: { messageAdded: { id: 'm1', text: 'héllo "world"' } } };
      const frame = parseFrame(wire(nextPrefix(id), JSON.stringify(payload)));
      expect(JSON.parse(frame.text)).toEqual({ id, type: 'next', payload });
    },
  );

  it('shares one frame between equal prefixes, and a large body between all', () => {
    const frames = new SharedFrames();
    const small = JSON.stringify({ data: { n: 1 } });
    const a = frames.frame(nextPrefix('a'), small);
    const a2 = frames.frame(nextPrefix('a'), small);
    const b = frames.frame(nextPrefix('bb'), small);
    expect(a2).toBe(a);
    expect(b.head).not.toBe(a.head);
    // A small body is copied into each frame, which then goes out as one buffer.
    expect(a.body).toBeUndefined();
    // A frame is the length of its own message: 'bb' is one byte longer than 'a'.
    expect(parseFrame(bytesOf(b)).text).toBe(`${nextPrefix('bb')}${small}}`);

    const large = JSON.stringify({ data: 'x'.repeat(WHOLE_FRAME_MAX_BODY) });
    const c = frames.frame(nextPrefix('a'), large);
    const d = frames.frame(nextPrefix('bb'), large);
    expect(c.body).toBeDefined();
    expect(d.body).toBe(c.body);
    expect(parseFrame(bytesOf(d)).text).toBe(`${nextPrefix('bb')}${large}}`);
  });

  it.each([WHOLE_FRAME_MAX_BODY - 1, WHOLE_FRAME_MAX_BODY, WHOLE_FRAME_MAX_BODY + 1])(
    'frames a body of %i bytes either side of the copy limit',
    (size) => {
      const json = `"${'y'.repeat(size - 3)}"`; // with the closing brace: `size` bytes
      const frame = new SharedFrames().frame(nextPrefix('1'), json);
      expect(frame.body === undefined).toBe(size <= WHOLE_FRAME_MAX_BODY);
      expect(parseFrame(bytesOf(frame)).text).toBe(`${nextPrefix('1')}${json}}`);
    },
  );

  it('starts afresh for the next result, however the previous one was shared', () => {
    const frames = new SharedFrames();
    const first = frames.frame(nextPrefix('1'), '{"data":1}');
    const second = frames.frame(nextPrefix('1'), '{"data":22}');
    expect(second).not.toBe(first);
    expect(parseFrame(bytesOf(first)).text).toBe(`${nextPrefix('1')}{"data":1}}`);
    expect(parseFrame(bytesOf(second)).text).toBe(`${nextPrefix('1')}{"data":22}}`);
  });

  it('counts the prefix in bytes, not characters', () => {
    const prefix = nextPrefix('😀'.repeat(40)); // 160 bytes in UTF-8, 80 UTF-16 units
    const head = frameHead(prefix, 1);
    const length = Buffer.byteLength(prefix) + 1;
    expect(head.length).toBe(headerSize(length) + Buffer.byteLength(prefix));
    expect(head.readUInt16BE(2)).toBe(length);
  });
});
