/** `pnpm pub <subject> <payload>`: publishes one message, like `nats pub`, to NATS_URL. */
import { connect } from 'nats';

const [subject, payload] = process.argv.slice(2);
const url = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
if (!subject || payload === undefined) {
  console.error(`usage: pnpm pub <subject> <payload>
  e.g. pnpm pub room.123.messages '{"__typename":"Message","id":"1"}'
  publishes to NATS_URL (now ${url})`);
  process.exit(2);
}
// Sent all the same: publishing a bad event on purpose is how one tries INVALID_EVENT.
const problem = payloadProblem(payload);
if (problem) {
  console.error(
    `pnpm pub: warning: ${problem}; the router will answer subscribers with INVALID_EVENT`,
  );
}
try {
  const nc = await connect({ servers: url });
  nc.publish(subject, payload);
  await nc.drain();
  console.log(`published ${Buffer.byteLength(payload)} bytes to ${subject}`);
} catch (error) {
  console.error(`pnpm pub: cannot publish to ${url}: ${(error as Error).message}`);
  process.exit(1);
}

/** Why the router would refuse `payload` as an event, as far as it can be told without the schema. */
function payloadProblem(text: string): string | undefined {
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    return 'the payload is not JSON';
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return 'the payload is not a JSON object';
  }
  if (typeof (event as Record<string, unknown>)['__typename'] !== 'string') {
    return 'the payload has no "__typename"';
  }
  return undefined;
}
