import { fileURLToPath } from 'node:url';

/** The example stack's router config: `router.yaml` at the root of the repository. */
export const routerConfigFile = fileURLToPath(new URL('../router.yaml', import.meta.url));
