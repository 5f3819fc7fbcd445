import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import { PROVIDER_TRAITS } from '../providers/connect.js';
import { readEventsGraphSdl } from '../schema/events-graph.js';
import { bindEventFields } from './event-field.js';

const api = buildSchema(`
  type Query { ok: Boolean }
  type Subscription { priceChanged(sku: ID!): Product }
  type Product { sku: ID! }
`);
const providers = new Map([
  ['default', PROVIDER_TRAITS.nats],
  ['cache', PROVIDER_TRAITS.redis],
  ['rabbit', PROVIDER_TRAITS.amqp],
]);

function bind(directive: string) {
  const sdl = parse(`
    directive @eventsSubscribe(topic: String!, stream: String, providerId: String) on FIELD_DEFINITION
    type Subscription { priceChanged(sku: ID!): Product ${directive} }
    type Product @key(fields: "sku") { sku: ID! }
  `);
  return bindEventFields(readEventsGraphSdl(sdl, 'events'), api, 'events', providers);
}

describe('binding a field to its provider', () => {
  it('takes the default provider unless the directive names one', () => {
    expect(bind('@eventsSubscribe(topic: "price.{{ args.sku }}")').get('priceChanged')).toEqual(
      expect.objectContaining({ provider: 'default' }),
    );
    expect(
      bind('@eventsSubscribe(topic: "price.{{ args.sku }}", providerId: "cache")').get(
        'priceChanged',
      ),
    ).toEqual(expect.objectContaining({ provider: 'cache' }));
  });

  it("checks rendered values against the field's own provider", () => {
    const field = bind(
      '@eventsSubscribe(topic: "orders.{{ args.sku }}.shipped", providerId: "rabbit")',
    ).get('priceChanged')!;
    expect(field.topic.render({ args: { sku: 'A-1' } })).toBe('orders.A-1.shipped');
    for (const sku of ['#', '*', 'a.b', 'a b']) {
      expect(field.topic.render({ args: { sku } })).toEqual(
        expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argument: 'sku' } }),
      );
    }
  });

  it('stops start-up on an unknown provider id, naming the field', () => {
    expect(() => bind('@eventsSubscribe(topic: "p.{{ args.sku }}", providerId: "kafka")')).toThrow(
      new SchemaError(
        'Subscription.priceChanged: @eventsSubscribe(providerId: "kafka") names no provider in the config (there are: default, cache, rabbit)',
        'events',
      ),
    );
  });

  it.each(['cache', 'rabbit'])('stops start-up on a stream on %s, which stores nothing', (id) => {
    expect(() =>
      bind(`@eventsSubscribe(topic: "p.{{ args.sku }}", providerId: "${id}", stream: "s")`),
    ).toThrow(
      /^\[events\] Subscription\.priceChanged: @eventsSubscribe\(stream:\) is not supported by provider/,
    );
  });
});
