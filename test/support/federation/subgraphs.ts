/**
 * Four small Federation 2 subgraphs (accounts, products, inventory, reviews) for comparing
 * the router with Apollo Gateway. Between them they cover entity joins across subgraphs,
 * `@requires` (flat and nested), `@provides`, `@shareable` value types, an interface entity
 * with `@interfaceObject`, a union, lists of entities, failing fields, mutations, an enum,
 * `@inaccessible` and a custom scalar.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { GraphQLError, GraphQLScalarType, parse } from 'graphql';
import { pino } from 'pino';
import { serveSubgraph, type RunningSubgraph } from '@edfs/subgraph-shared';
import type { SubgraphSource } from '@edfs/router';
import {
  brands,
  media,
  seedProducts,
  seedReviews,
  users,
  type ProductRow,
  type ReviewRow,
} from './data.js';

export const FEDERATION_SUBGRAPHS = ['accounts', 'products', 'inventory', 'reviews'] as const;
export type FederationSubgraph = (typeof FEDERATION_SUBGRAPHS)[number];

/** The running subgraphs, as sources to compose. */
export interface FederationSubgraphs {
  readonly sources: readonly SubgraphSource[];
  close(): Promise<void>;
}

const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize: (value) => {
    if (!(value instanceof Date)) throw new TypeError('DateTime: not a Date');
    return value.toISOString();
  },
});

type Row = Record<string, unknown>;

function resolvers(name: FederationSubgraph): GraphQLResolverMap<unknown> {
  switch (name) {
    case 'accounts':
      return {
        DateTime,
        Query: {
          me: () => users[0],
          user: (_: unknown, { id }: { id: string }) => users.find((u) => u.id === id) ?? null,
        },
        User: {
          __resolveReference: ({ id }: { id: string }) => users.find((u) => u.id === id) ?? null,
        },
      };
    case 'products': {
      const products = new Map(seedProducts.map((p) => [p.upc, { ...p }]));
      return {
        DateTime,
        Query: {
          product: (_: unknown, { upc }: { upc: string }) => products.get(upc) ?? null,
          topProducts: (_: unknown, args: { first: number; category?: string }) =>
            [...products.values()]
              .filter((p) => p.category !== 'DISCONTINUED')
              .filter((p) => !args.category || p.category === args.category)
              .slice(0, args.first),
          search: (_: unknown, { text }: { text: string }) => {
            const needle = text.toLowerCase();
            return [
              ...[...products.values()].filter((p) => p.name.toLowerCase().includes(needle)),
              ...brands.filter((b) => b.name.toLowerCase().includes(needle)),
            ];
          },
          media: () => media,
        },
        Mutation: {
          // An upsert, so the same mutation sent to both gateways answers the same.
          createProduct: (
            _: unknown,
            { input }: { input: Pick<ProductRow, 'upc' | 'name' | 'price' | 'category'> },
          ) => {
            const product: ProductRow = {
              weight: null,
              releasedAt: null,
              dimensions: null,
              ...input,
            };
            products.set(product.upc, product);
            return product;
          },
        },
        Product: {
          __resolveReference: ({ upc }: { upc: string }) => products.get(upc) ?? null,
          flaky: () => {
            throw new GraphQLError('The flaky field failed.', { extensions: { code: 'FLAKY' } });
          },
          secretCode: () => 'hidden',
        },
        SearchResult: {
          __resolveType: (value: Row) => ('upc' in value ? 'Product' : 'Brand'),
        },
        Media: {
          __resolveType: (value: Row) => value['__typename'],
          __resolveReference: ({ id }: { id: string }) => media.find((m) => m.id === id) ?? null,
        },
        Book: { __resolveReference: ({ id }: { id: string }) => media.find((m) => m.id === id) },
        Movie: { __resolveReference: ({ id }: { id: string }) => media.find((m) => m.id === id) },
      };
    }
    case 'inventory':
      return {
        Product: {
          __resolveReference: (representation: Row) => representation,
          inStock: ({ upc }: Row) => upc !== '3',
          shippingEstimate: ({ price, weight }: { price: number; weight: number | null }) =>
            price > 1000 ? 0 : Math.ceil((weight ?? 0) / 2),
          shippingClass: ({ dimensions }: Pick<ProductRow, 'dimensions'>) =>
            dimensions
              ? dimensions.width * dimensions.height > 10_000
                ? 'FREIGHT'
                : 'PARCEL'
              : null,
          stockNote: ({ upc }: Row) => {
            if (upc === '2') throw new Error('Stock system unavailable for 2.');
            return `upc ${String(upc)} counted`;
          },
          restockDays: ({ upc }: Row) => {
            if (upc === '3') throw new Error('No restock date for 3.');
            return 7;
          },
        },
      };
    case 'reviews': {
      const reviews = new Map(seedReviews.map((r) => [r.id, { ...r }]));
      const about = (subject: string) => [...reviews.values()].filter((r) => r.subject === subject);
      return {
        DateTime,
        Query: {
          latestReviews: (_: unknown, { first }: { first: number }) =>
            [...reviews.values()].reverse().slice(0, first),
        },
        Mutation: {
          // The id follows from the input: the same mutation twice is the same review.
          addReview: (
            _: unknown,
            { input }: { input: Omit<ReviewRow, 'id' | 'createdAt'> & { upc: string } },
          ) => {
            const review: ReviewRow = {
              id: `r-${input.upc}-${input.authorID}-${input.rating}`,
              body: input.body,
              rating: input.rating,
              createdAt: new Date('2023-01-01T00:00:00Z'),
              authorID: input.authorID,
              subject: input.upc,
            };
            reviews.set(review.id, review);
            return review;
          },
        },
        Review: {
          __resolveReference: ({ id }: { id: string }) => reviews.get(id) ?? null,
          author: ({ authorID }: ReviewRow) => ({
            id: authorID,
            username: users.find((u) => u.id === authorID)?.username,
          }),
          product: ({ subject }: ReviewRow) => (/^\d+$/.test(subject) ? { upc: subject } : null),
        },
        User: {
          reviews: ({ id }: { id: string }) =>
            [...reviews.values()].filter((r) => r.authorID === id),
        },
        Product: {
          reviews: ({ upc }: { upc: string }) => about(upc),
          reviewCount: ({ upc }: { upc: string }) => about(upc).length,
        },
        Media: {
          reviews: ({ id }: { id: string }) => about(id),
        },
      };
    }
  }
}

function sdlFile(name: FederationSubgraph): string {
  return fileURLToPath(new URL(`${name}.graphql`, import.meta.url));
}

/** Starts the four subgraphs on free ports, each with its own fresh data. */
export async function startFederationSubgraphs(): Promise<FederationSubgraphs> {
  const logger = pino({ level: 'silent' });
  const running: RunningSubgraph[] = [];
  const sources: SubgraphSource[] = [];
  try {
    for (const name of FEDERATION_SUBGRAPHS) {
      const schema = sdlFile(name);
      const typeDefs = parse(readFileSync(schema, 'utf8'));
      const subgraph = await serveSubgraph({
        name,
        schema: buildSubgraphSchema([{ typeDefs, resolvers: resolvers(name) }]),
        logger,
      });
      running.push(subgraph);
      sources.push({ name, url: subgraph.url, schema });
    }
  } catch (error) {
    await Promise.all(running.map((subgraph) => subgraph.close()));
    throw error;
  }
  return {
    sources,
    close: async () => {
      await Promise.all(running.map((subgraph) => subgraph.close()));
    },
  };
}
