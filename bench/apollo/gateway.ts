/**
 * Apollo Gateway in Apollo Server's standalone HTTP server, serving a supergraph file, for
 * the query scenario: `node --import tsx bench/apollo/gateway.ts <supergraph> <port>`.
 * Logs one JSON line `{"msg":"apollo listening","url":…}` once it answers.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const [supergraphFile, port] = process.argv.slice(2);
if (!supergraphFile || !port) {
  console.error('usage: gateway.ts <supergraph.graphql> <port>');
  process.exit(2);
}

// Apollo Gateway refuses a supergraph with a SECURITY feature it cannot enforce
// (`@requiresScopes` is GraphOS Router's). Unmarked, the directive stays in the schema and is
// not enforced; no benchmark query reads a scoped field, so the answers are the same.
const supergraphSdl = readFileSync(supergraphFile, 'utf8').replace(
  /(@link\(url: "https:\/\/specs\.apollo\.dev\/requiresScopes\/[^"]+"), for: SECURITY\)/,
  '$1)',
);
const server = new ApolloServer({
  gateway: new ApolloGateway({ supergraphSdl }),
  includeStacktraceInErrorResponses: false,
});
const { url } = await startStandaloneServer(server, {
  listen: { host: '127.0.0.1', port: Number(port) },
});
console.log(JSON.stringify({ msg: 'apollo listening', url }));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void server.stop().finally(() => process.exit(0)));
}
