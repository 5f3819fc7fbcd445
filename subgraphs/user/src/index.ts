export { createUserSubgraph } from './subgraph.js';
export type { UserSubgraphOptions } from './subgraph.js';
