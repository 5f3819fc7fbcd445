import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Node resolves `graphql` to its CommonJS build, as Apollo's packages require it; Vite would
// pick the ESM build for our code and so load a second graphql, which graphql refuses.
const graphql = createRequire(import.meta.url).resolve('graphql');

export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphql }] },
  test: {
    // Test files mostly wait on sockets and child processes, so two run at once even on a
    // 2-core machine (vitest's default there is one): the suite takes about a third less.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'router/src/**/*.test.ts',
            'subgraphs/*/src/**/*.test.ts',
            'bench/**/*.test.ts',
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.ts'],
          // router.yaml reads the development key's JWKS (made once, git-ignored).
          globalSetup: ['test/support/dev-key-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
