/**
 * For unit tests: an `EventProvider` on no broker, a NATS-like one with streams and
 * request, that accepts every subject, publishes and requests into nothing, has no stored
 * events and never reconnects. A test gives the parts it plays (at least `subscribe`).
 */
import type { EventProvider } from './provider.js';

export function fakeProvider(
  parts: Partial<EventProvider> & Pick<EventProvider, 'subscribe'>,
): EventProvider {
  return {
    id: 'default',
    name: 'fake',
    kind: 'nats',
    capabilities: { streams: true, request: true },
    syntax: { isToken: () => true, tokenRule: 'anything', maxSubjectBytes: 256 },
    firstAttempt: Promise.resolve(),
    publish: () => Promise.resolve(),
    request: () => Promise.resolve(new Uint8Array()),
    async *replay() {},
    onReconnect: () => {},
    isConnected: () => true,
    close: () => Promise.resolve(),
    ...parts,
  };
}
