/**
 * The example stack's development signing key: generated on first use into `.dev-keys/`
 * (git-ignored), with its public JWKS beside it for router.yaml's `authentication.jwt`.
 * `pnpm token` signs with it. Never use it outside development. Run as a script
 * (`node --import tsx stack/dev-key.ts`), it just makes sure both files exist.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The folder of the key and its JWKS; router.yaml names the JWKS relative to itself. */
export const devKeyDir = join(root, '.dev-keys');
export const devKeyFile = join(devKeyDir, 'signing-key.json');
export const devJwksFile = join(devKeyDir, 'jwks.json');
/** The issuer and audience of development tokens, as router.yaml checks them. */
export const DEV_ISSUER = 'edfs-dev';
export const DEV_AUDIENCE = 'edfs';
const ALG = 'ES256';

export interface DevKey {
  readonly kid: string;
  readonly alg: typeof ALG;
  readonly privateKey: CryptoKey;
}

/** The development key, generated (with its JWKS file) if there is none yet. */
export async function ensureDevKey(): Promise<DevKey> {
  let jwk = readKey();
  if (!jwk) {
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const fresh: JWK = {
      ...(await exportJWK(privateKey)),
      kid: `dev-${Date.now().toString(36)}`,
      alg: ALG,
    };
    mkdirSync(devKeyDir, { recursive: true });
    // Several processes may start at once (tests); the first link wins, the rest read it.
    const temporary = `${devKeyFile}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(fresh), { mode: 0o600 });
    try {
      linkSync(temporary, devKeyFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temporary, { force: true });
    }
    jwk = readKey()!;
  }
  writeJwks(jwk);
  return {
    kid: jwk.kid!,
    alg: ALG,
    privateKey: (await importJWK(jwk, ALG)) as CryptoKey,
  };
}

function readKey(): JWK | undefined {
  try {
    return JSON.parse(readFileSync(devKeyFile, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The public half, always rewritten from the key: the same bytes for the same key. */
function writeJwks({ kty, crv, x, y, kid, alg }: JWK): void {
  const text = `${JSON.stringify({ keys: [{ kty, crv, x, y, kid, alg, use: 'sig' }] }, null, 2)}\n`;
  try {
    if (readFileSync(devJwksFile, 'utf8') === text) return;
  } catch {
    // not there yet
  }
  mkdirSync(dirname(devJwksFile), { recursive: true });
  const temporary = `${devJwksFile}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, devJwksFile);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await ensureDevKey();
  console.log(`development key ready: ${devJwksFile}`);
}
