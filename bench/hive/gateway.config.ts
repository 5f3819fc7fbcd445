/**
 * Hive Gateway's configuration for the benchmark (`hive-gateway supergraph <file> -c this`).
 * Subscriptions are event-driven the Hive way: `@resolveTo(pubsubTopic:)` binds the field to
 * a topic of its NATS pubsub, which publishes and subscribes on `<prefix>:<topic>`.
 */
import { defineConfig, NATSPubSub } from '@graphql-hive/gateway';
import { connect } from '@nats-io/transport-node';

const natsUrl = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
/** NATSPubSub requires a prefix; subjects become `hive:room.<roomID>.messages`. */
export const subjectPrefix = process.env['HIVE_SUBJECT_PREFIX'] ?? 'hive';

export const gatewayConfig = defineConfig({
  pubsub: new NATSPubSub(await connect({ servers: natsUrl, name: 'hive-gateway' }), {
    subjectPrefix,
  }),
  additionalTypeDefs: /* GraphQL */ `
    extend schema {
      subscription: Subscription
    }
    type Subscription {
      messageAdded(roomID: ID!): Message @resolveTo(pubsubTopic: "room.{args.roomID}.messages")
    }
  `,
  // The benchmark reads no logs but errors; the defaults log every request at info.
  logging: 'error',
});
