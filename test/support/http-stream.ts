/** A streaming HTTP response (SSE, multipart) read as it arrives. */
export interface HttpStream {
  readonly status: number;
  readonly headers: Headers;
  /** Everything received so far. */
  readonly text: string;
  /** Resolves once the body received so far satisfies `check`; rejects if it ends first. */
  until(what: string, check: (text: string) => boolean): Promise<string>;
  /** Resolves when the response has ended (or was closed). */
  readonly ended: Promise<void>;
  /** Closes the connection, as a client that leaves does. */
  close(): void;
}

/** POSTs a GraphQL request with `accept` and reads the response as it streams. */
export async function openHttpStream(
  url: string,
  accept: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<HttpStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, ...headers },
    body: JSON.stringify({ query }),
    signal: controller.signal,
  });
  let text = '';
  let done = false;
  const checks = new Set<() => void>();
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        text += value;
        for (const check of [...checks]) check();
      }
    } catch {
      // closed by the test, or cut by the router
    } finally {
      done = true;
      for (const check of [...checks]) check();
    }
  })();
  return {
    status: response.status,
    headers: response.headers,
    get text() {
      return text;
    },
    until(what, check) {
      return new Promise((resolve, reject) => {
        const test = (): void => {
          if (check(text)) {
            checks.delete(test);
            resolve(text);
          } else if (done) {
            checks.delete(test);
            reject(new Error(`the response ended before ${what}: ${text}`));
          }
        };
        checks.add(test);
        test();
      });
    },
    ended,
    close: () => controller.abort(),
  };
}
