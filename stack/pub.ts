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
try {
  const nc = await connect({ servers: url });
  nc.publish(subject, payload);
  await nc.drain();
  console.log(`published ${Buffer.byteLength(payload)} bytes to ${subject}`);
} catch (error) {
  console.error(`pnpm pub: cannot publish to ${url}: ${(error as Error).message}`);
  process.exit(1);
}
