import { GraphQLError } from 'graphql';

/**
 * A position in a stream, as clients hold it: opaque to them, the same string for every
 * subscriber of an event, and enough to resume after it on any router of the cluster.
 */
export interface StreamPosition {
  readonly stream: string;
  /** The stream sequence of the event. */
  readonly sequence: number;
}

const PREFIX = 'edfs1:';

export function encodeCursor({ stream, sequence }: StreamPosition): string {
  return Buffer.from(`${PREFIX}${stream}:${sequence}`).toString('base64url');
}

/** The position a cursor names, or an `INVALID_CURSOR` / `CURSOR_WRONG_STREAM` error. */
export function decodeCursor(cursor: unknown, stream: string): StreamPosition | GraphQLError {
  const position = positionOf(cursor);
  if (!position) {
    return new GraphQLError('The cursor is not one this router gave out.', {
      extensions: { code: 'INVALID_CURSOR' },
    });
  }
  if (position.stream !== stream) {
    return new GraphQLError(
      `The cursor belongs to stream "${position.stream}", not to this subscription's stream "${stream}".`,
      { extensions: { code: 'CURSOR_WRONG_STREAM' } },
    );
  }
  return position;
}

/** Whether `value` is a cursor the router gives out, of whichever stream. */
export function isCursor(value: unknown): boolean {
  return positionOf(value) !== undefined;
}

function positionOf(cursor: unknown): StreamPosition | undefined {
  const text =
    typeof cursor === 'string' && cursor.length <= 512
      ? Buffer.from(cursor, 'base64url').toString()
      : '';
  // Stream sequences start at 1: the router never gives out 0, and NATS refuses to look it up.
  const match = /^edfs1:(.+):([1-9]\d{0,14})$/.exec(text);
  if (!match) return undefined;
  const position = { stream: match[1]!, sequence: Number(match[2]) };
  return encodeCursor(position) === cursor ? position : undefined;
}

/** The events before a cursor's position are gone from the stream, so it cannot resume. */
export function cursorExpired(): GraphQLError {
  return new GraphQLError(
    'The stream no longer holds the events after this cursor; subscribe without a cursor to start from now.',
    { extensions: { code: 'CURSOR_EXPIRED' } },
  );
}
