import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type ChannelModel } from 'amqplib';
import {
  freePort,
  onFreshPorts,
  removeDir,
  spawnBroker,
  tempDir,
  untilReady,
  type BrokerProcess,
} from './broker-process.js';

const run = promisify(execFile);
// Debian's /usr/sbin wrappers switch to the rabbitmq user; the scripts behind them do not.
const BIN = existsSync('/usr/lib/rabbitmq/bin') ? '/usr/lib/rabbitmq/bin/' : '';
/** RabbitMQ boots in seconds, but on a loaded two-core machine it has taken over 10. */
const READY_TIMEOUT_MS = 90_000;

export interface RabbitMqServerOptions {
  /**
   * Also listen with TLS on a free port (`tlsPort`), with this certificate; a client
   * certificate is asked for, but not required. @default no TLS
   */
  tls?: { cert: string; key: string; ca: string };
}

export interface RabbitMqServer {
  /** e.g. `amqp://guest:guest@127.0.0.1:5690` */
  readonly url: string;
  /** The TLS port, when started with `tls`. */
  readonly tlsPort: number | undefined;
  /** Publishes on a topic exchange (declared durable if missing), as any AMQP client would. */
  publish(
    exchange: string,
    routingKey: string,
    payload: string | Record<string, unknown>,
  ): Promise<void>;
  /** Queue bindings of `exchange` with exactly this routing key, across queues (`rabbitmqctl list_bindings`). */
  bindingsOn(exchange: string, routingKey: string): Promise<number>;
  /** The node's process id (from its pid file), e.g. to freeze it with `SIGSTOP`. */
  pid(): number;
  /** Runs `rabbitmqctl` against this node, e.g. `ctl('add_user', 'u', 'pw')`. */
  ctl(...args: string[]): Promise<string>;
  /** Stops the node, keeping its folder, ports and epmd for `boot`. */
  halt(): Promise<void>;
  /** Starts the node (again) on the same port; resolves once it takes connections. */
  boot(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Spawns a RabbitMQ node of its own: a unique node name, its own epmd on a free port (epmd is
 * shared by every Erlang node that uses its port), free AMQP and distribution ports on
 * loopback, no plugins, and every file (database, logs, config, Erlang cookie) in a throwaway
 * folder; ready once amqplib can connect. It goes on `stop`, or when our process exits.
 */
export function startRabbitMqServer(options: RabbitMqServerOptions = {}): Promise<RabbitMqServer> {
  return onFreshPorts(() => start(options));
}

async function start(options: RabbitMqServerOptions): Promise<RabbitMqServer> {
  const dir = tempDir('rabbitmq');
  mkdirSync(join(dir, 'log'));
  const [port, epmdPort, distPort] = [await freePort(), await freePort(), await freePort()];
  const tlsPort = options.tls ? await freePort() : undefined;
  const tls = options.tls
    ? [
        `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
        `ssl_options.cacertfile = ${options.tls.ca}`,
        `ssl_options.certfile = ${options.tls.cert}`,
        `ssl_options.keyfile = ${options.tls.key}`,
        'ssl_options.verify = verify_peer',
        'ssl_options.fail_if_no_peer_cert = false',
      ]
    : [];
  writeFileSync(join(dir, 'rabbitmq.conf'), ['loopback_users = none', ...tls, ''].join('\n'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  const node = `edfs${process.pid}x${Math.random().toString(36).slice(2, 8)}@localhost`;
  const env = {
    ...process.env,
    HOME: dir,
    ERL_EPMD_PORT: String(epmdPort),
    ERL_CRASH_DUMP: join(dir, 'erl_crash.dump'),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  // Our own epmd, in the foreground, so that no daemon outlives the test; `-d` for its
  // reason when it cannot have the port (it exits, saying an epmd runs there already).
  const epmd = spawnBroker('epmd', ['-d', '-port', String(epmdPort), '-address', '127.0.0.1'], {
    env,
  });
  let broker: BrokerProcess | undefined;
  let client: ChannelModel | undefined;

  const boot = async (): Promise<void> => {
    broker = spawnBroker(`${BIN}rabbitmq-server`, [], { env, cwd: dir });
    client = await untilReady(
      'rabbitmq-server',
      broker,
      async () => {
        const model = await connect(url);
        model.on('error', () => {}); // the node stopping under it is the test's doing
        return model;
      },
      READY_TIMEOUT_MS,
    );
  };
  const halt = async (): Promise<void> => {
    await client?.close().catch(() => {});
    client = undefined;
    await broker?.stop(30_000);
  };
  const ctl = async (...args: string[]): Promise<string> =>
    (await run(`${BIN}rabbitmqctl`, ['-n', node, ...args], { env })).stdout;
  const stop = async (): Promise<void> => {
    await halt();
    await epmd.stop();
    removeDir(dir);
  };
  try {
    // Before the node starts: one that finds no epmd starts a daemon, which would outlive us.
    // Another test's epmd on the port answers too, and then ours exits: ours logs (`-d`) the
    // requests it answers.
    await untilReady(
      'epmd',
      epmd,
      async () => {
        await epmdAnswers(epmdPort);
        if (!epmd.output().includes('got NAMES_REQ')) throw new Error('another epmd answered');
      },
      READY_TIMEOUT_MS,
    );
    await boot();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    tlsPort,
    async publish(exchange, routingKey, payload) {
      const channel = await client!.createChannel();
      try {
        await channel.assertExchange(exchange, 'topic', { durable: true });
        const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
        channel.publish(exchange, routingKey, Buffer.from(body));
      } finally {
        await channel.close();
      }
    },
    ctl,
    pid: () => Number(readFileSync(env.RABBITMQ_PID_FILE, 'utf8').trim()),
    async bindingsOn(exchange, routingKey) {
      const stdout = await ctl(
        'list_bindings',
        '-q',
        '--no-table-headers',
        'source_name',
        'routing_key',
      );
      return stdout
        .split('\n')
        .map((line) => line.split('\t'))
        .filter(([source, key]) => source === exchange && key === routingKey).length;
    },
    halt,
    boot,
    stop,
  };
}

/**
 * Resolves once an epmd on `port` answers a NAMES_REQ (Erlang distribution protocol: a
 * 2-byte length, the request 110) with its own port number, as no other server would.
 */
function epmdAnswers(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1');
    let answer = Buffer.alloc(0);
    // A bound on one probe (untilReady tries again), not a wait: a silent listener fails it.
    socket.setTimeout(2_000, () => socket.destroy(new Error('epmd did not answer')));
    socket.on('connect', () => socket.write(Buffer.from([0, 1, 110])));
    socket.on('data', (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      if (answer.length < 4) return;
      socket.destroy();
      const answered = answer.readUInt32BE(0);
      if (answered === port) resolve();
      else reject(new Error(`not our epmd: it says port ${answered}`));
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('epmd closed the connection')));
  });
}
