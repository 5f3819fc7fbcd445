import { createHash } from 'node:crypto';
import { nkeys } from 'nats';

/** A NATS server in operator (decentralized JWT) mode and a user allowed on it. */
export interface NatsOperatorSetup {
  /** nats-server config text: the operator, its account and the system account preloaded. */
  readonly serverConfig: string;
  /** A `.creds` file's text for a user of that account, as `nsc generate creds` writes it. */
  readonly creds: string;
}

/**
 * Makes what `nsc` would for a small deployment: an operator, an account it signs (no
 * limits) and a user the account signs, each a JWT signed with its issuer's NKey.
 */
export function natsOperatorSetup(): NatsOperatorSetup {
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  // The server's own account (JetStream, which the test servers run, needs one).
  const system = nkeys.createAccount();
  const user = nkeys.createUser();
  const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, conn: -1 };
  const operatorJwt = sign(operator, operator.getPublicKey(), { type: 'operator' });
  const accountJwt = sign(operator, account.getPublicKey(), {
    type: 'account',
    limits: { ...unlimited, leaf: -1, wildcards: true },
  });
  const systemJwt = sign(operator, system.getPublicKey(), { type: 'account' });
  const userJwt = sign(account, user.getPublicKey(), {
    type: 'user',
    ...{ pub: {}, sub: {}, subs: -1, data: -1, payload: -1 },
  });
  const seed = new TextDecoder().decode(user.getSeed());
  return {
    serverConfig: [
      `operator: ${operatorJwt}`,
      'resolver: MEMORY',
      `system_account: ${system.getPublicKey()}`,
      `resolver_preload: { ${account.getPublicKey()}: ${accountJwt}, ${system.getPublicKey()}: ${systemJwt} }`,
      '',
    ].join('\n'),
    creds: [
      '-----BEGIN NATS USER JWT-----',
      userJwt,
      '------END NATS USER JWT------',
      '',
      '-----BEGIN USER NKEY SEED-----',
      seed,
      '------END USER NKEY SEED------',
      '',
    ].join('\n'),
  };
}

/** A NATS JWT (`ed25519-nkey`) of `subject`, issued and signed by `issuer`. */
function sign(
  issuer: ReturnType<typeof nkeys.createUser>,
  subject: string,
  nats: Record<string, unknown>,
): string {
  const encode = (value: unknown): string =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims: Record<string, unknown> = {
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name: String(nats['type']),
    sub: subject,
    nats: { ...nats, version: 2 },
  };
  claims['jti'] = createHash('sha256').update(JSON.stringify(claims)).digest('base64url');
  const body = `${encode({ typ: 'JWT', alg: 'ed25519-nkey' })}.${encode(claims)}`;
  const signature = issuer.sign(new TextEncoder().encode(body));
  return `${body}.${Buffer.from(signature).toString('base64url')}`;
}
