import { startApollo } from './apollo.js';
import { startHive } from './hive.js';
import { startRelay } from './relay.js';
import { startRouter } from './router.js';
import type { StartTarget, TargetName } from './target.js';

export const startTarget: Record<TargetName, StartTarget> = {
  router: startRouter,
  relay: startRelay,
  hive: startHive,
  apollo: startApollo,
};
