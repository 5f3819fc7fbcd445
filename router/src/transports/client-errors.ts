import type { Duplex } from 'node:stream';

/** What Node's HTTP parser refused, as status, reason and a message for the client. */
function refusal(code: string | undefined): [number, string, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [
        431,
        'Request Header Fields Too Large',
        'The request line and headers are over 16 KiB; send a long query in a POST body.',
      ];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout', 'The request did not arrive in time.'];
    default:
      return [400, 'Bad Request', 'The request is not valid HTTP/1.1.'];
  }
}

/**
 * Answers a request Node's HTTP parser refuses before the router sees it (its URL and
 * headers over 16 KiB, a malformed request line), with the status Node would send but with
 * a GraphQL error body, so a client can tell a limit of the router from a broken proxy.
 * For the server's `clientError` event.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const [status, reason, message] = refusal(error.code);
  const body = JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
