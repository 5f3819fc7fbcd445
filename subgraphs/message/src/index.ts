export { createMessageSubgraph } from './subgraph.js';
export type { MessageSubgraphOptions } from './subgraph.js';
export { roomSubject } from './resolvers.js';
