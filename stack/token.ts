/**
 * `pnpm token [--sub 1] [--scope "users:email"] [--ttl 1h]`: prints a token signed by the
 * example stack's development key (made if missing), which router.yaml accepts.
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER, ensureDevKey } from './dev-key.js';

const usage = 'Usage: pnpm token [--sub <id>] [--scope "<scope> ..."] [--ttl 1h|30m|90s|2d]';

let values: { sub: string; scope?: string | undefined; ttl: string; help?: boolean | undefined };
try {
  ({ values } = parseArgs({
    options: {
      sub: { type: 'string', default: '1' },
      scope: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  console.error(`pnpm token: ${(error as Error).message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (!/^\d+[smhd]$/.test(values.ttl)) {
  console.error(`pnpm token: --ttl is a number and s, m, h or d, e.g. 1h\n${usage}`);
  process.exit(2);
}

const key = await ensureDevKey();
const claims = values.scope === undefined ? {} : { scope: values.scope };
const token = await new SignJWT(claims)
  .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
  .setSubject(values.sub)
  .setIssuer(DEV_ISSUER)
  .setAudience(DEV_AUDIENCE)
  .setIssuedAt()
  .setExpirationTime(values.ttl)
  .sign(key.privateKey);
console.log(token);
