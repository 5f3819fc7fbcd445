import { ensureDevKey } from '../../stack/dev-key.js';

/** Vitest global setup: routers started from router.yaml (the CLI's too) find its JWKS. */
export default async function setup(): Promise<void> {
  await ensureDevKey();
}
