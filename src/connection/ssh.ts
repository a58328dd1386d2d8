/**
 * SSH through ssh2: one connection per host, kept open for the whole run and
 * shared by every command (several channels at once, below OpenSSH's default
 * `MaxSessions 10`). The socket is ours so that TCP_NODELAY is set before the
 * handshake, which halves handshake time on low-latency networks.
 */
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig, ParsedKey } from 'ssh2';
import pLimit, { type LimitFunction } from 'p-limit';
import { HostKeyError, UnreachableError } from '../errors.js';
import type { ShellCommand } from '../util/shell.js';
import { prepareCommand, runProcess, type ProcessHandle } from './command-session.js';
import { hostLookupName, knownKeyTypes, verifyHostKey, type KnownHostsFile, fingerprint } from './known-hosts.js';
import type { Connection, ExecOptions, ExecResult } from './types.js';
import { dialTcp } from './tcp.js';

const { Client } = ssh2;

/** OpenSSH's default MaxSessions is 10; stay below it so a busy host never refuses a channel. */
export const CHANNELS_PER_CONNECTION = 8;

export type HostKeyPolicy = 'strict' | 'accept-new';

export interface SshEndpoint {
  /** inventory name, for messages */
  host: string;
  address: string;
  port: number;
  user: string;
}

export interface SshAuth {
  /** Private keys, parsed and decrypted once, tried in order. */
  privateKeys: { path: string; key: ParsedKey }[];
  agentSocket?: string;
  password?: string;
}

export interface SshOpenOptions {
  endpoint: SshEndpoint;
  auth: SshAuth;
  knownHosts: KnownHostsFile;
  hostKeyPolicy: HostKeyPolicy;
  connectTimeoutMs: number;
  /** A stream already connected to the target (a dialed socket, or a tunnel through a jump host); else we dial TCP ourselves. */
  tunnel?: Duplex;
  debug?: (msg: string) => void;
}


// Preferred host key algorithms, as OpenSSH orders them; known types for the host go first.
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function algorithmsFor(knownTypes: string[]): string[] {
  if (knownTypes.length === 0) return HOST_KEY_ALGORITHMS;
  const preferred = HOST_KEY_ALGORITHMS.filter((alg) =>
    knownTypes.some((t) => t === alg || (t === 'ssh-rsa' && alg.startsWith('rsa-sha2-'))),
  );
  return [...preferred, ...HOST_KEY_ALGORITHMS.filter((a) => !preferred.includes(a))];
}

export class SshConnection implements Connection {
  private readonly limit: LimitFunction = pLimit(CHANNELS_PER_CONNECTION);
  private closed = false;
  private lostReason: string | undefined;
  private readonly closedSignal: Promise<void>;

  private constructor(
    readonly host: string,
    private readonly client: InstanceType<typeof Client>,
  ) {
    let onClosed: () => void = () => undefined;
    this.closedSignal = new Promise<void>((resolve) => (onClosed = resolve));
    client.on('close', () => {
      this.closed = true;
      this.lostReason ??= 'connection closed by the remote host';
      onClosed();
    });
    client.on('error', (err) => {
      this.lostReason = err.message;
    });
  }

  static async open(opts: SshOpenOptions): Promise<SshConnection> {
    const { endpoint, knownHosts } = opts;
    await knownHosts.load();
    const lookupNames = [hostLookupName(endpoint.address, endpoint.port)];
    if (endpoint.port === 22) lookupNames.push(`[${endpoint.address}]:22`);
    const sock = opts.tunnel ?? (await dialTcp(endpoint.address, endpoint.port, opts.connectTimeoutMs, endpoint.host));
    const client = new Client();
    let hostKeyFailure: HostKeyError | undefined;
    let acceptNewWrite: Promise<void> | undefined;

    // Callback form on purpose: ssh2 treats any returned value (even a Promise resolving to false) as "accept".
    const hostVerifier = (key: Buffer, verify: (valid: boolean) => void): void => {
      const verdict = verifyHostKey(knownHosts.loaded, lookupNames, key);
      if (verdict.kind === 'match') return verify(true);
      if (verdict.kind === 'unknown' && opts.hostKeyPolicy === 'accept-new') {
        acceptNewWrite = knownHosts.append(lookupNames[0]!, key);
        return verify(true);
      }
      if (verdict.kind === 'unknown') {
        hostKeyFailure = new HostKeyError(
          `host key for ${lookupNames[0]} is not in ${knownHosts.path} (presented ${fingerprint(key)})`,
          { host: endpoint.host, hint: 'verify the fingerprint, then add it to known_hosts, or pass --accept-new to trust new hosts on first use' },
        );
      } else if (verdict.kind === 'revoked') {
        hostKeyFailure = new HostKeyError(`host key for ${lookupNames[0]} is revoked (${verdict.fingerprint}, ${knownHosts.path}:${verdict.line})`, {
          host: endpoint.host,
        });
      } else {
        hostKeyFailure = new HostKeyError(
          `HOST KEY CHANGED for ${lookupNames[0]}: it presented ${verdict.presented}, but ${knownHosts.path}:${verdict.lines.join(',')} expects ${verdict.expected.join(' or ')}. Refusing to connect: someone may be intercepting the connection, or the host was reinstalled`,
          { host: endpoint.host, hint: `if the host was reinstalled, remove the old key with: ssh-keygen -R ${lookupNames[0]} -f ${knownHosts.path}` },
        );
      }
      verify(false);
    };

    const auths = buildAuthQueue(opts.auth, endpoint.user);
    const config: ConnectConfig = {
      sock: sock as unknown as ConnectConfig['sock'],
      username: endpoint.user,
      readyTimeout: opts.connectTimeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: algorithmsFor(knownKeyTypes(knownHosts.loaded, lookupNames)) as ssh2.ServerHostKeyAlgorithm[] },
      hostVerifier,
      authHandler: (_methodsLeft, _partial, next) => {
        // `false` tells ssh2 that every method was tried; its types omit that value.
        (next as (auth: unknown) => void)(auths.shift() ?? false);
      },
      debug: opts.debug,
    };

    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error & { level?: string }) => {
        client.removeListener('ready', onReady);
        sock.destroy();
        if (hostKeyFailure) return reject(hostKeyFailure);
        if (err.level === 'client-authentication') {
          return reject(
            new UnreachableError(`authentication failed for ${endpoint.user}@${endpoint.address}:${endpoint.port}`, {
              host: endpoint.host,
              hint: 'check ansible_user and ansible_ssh_private_key_file (or your ssh-agent)',
              cause: err,
            }),
          );
        }
        reject(
          new UnreachableError(`ssh to ${endpoint.address}:${endpoint.port} failed: ${err.message}`, { host: endpoint.host, cause: err }),
        );
      };
      const onReady = () => {
        client.removeListener('error', onError);
        resolve();
      };
      client.once('error', onError);
      client.once('ready', onReady);
      client.connect(config);
    });
    await acceptNewWrite;
    return new SshConnection(endpoint.host, client);
  }

  exec(command: ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    return this.limit(() => this.execNow(command, options));
  }

  /** Opens a TCP tunnel through this host (for ProxyJump). */
  forward(address: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, address, port, (err, stream) => {
        if (err) return reject(new UnreachableError(`jump host ${this.host} could not reach ${address}:${port}: ${err.message}`, { host: this.host, cause: err }));
        resolve(stream);
      });
    });
  }

  private execNow(command: ShellCommand, options: ExecOptions): Promise<ExecResult> {
    if (this.closed) {
      return Promise.reject(new UnreachableError(`connection lost: ${this.lostReason}`, { host: this.host }));
    }
    const prepared = prepareCommand(command, options);
    return new Promise<ProcessHandle>((resolve, reject) => {
      this.client.exec(prepared.text, (err, channel) => {
        if (err) {
          reject(new UnreachableError(`cannot open a channel: ${err.message}`, { host: this.host, cause: err, command: prepared.display }));
          return;
        }
        // Listen at once: a fast command's exit status can arrive in the same packet as the channel's confirmation.
        resolve(channelHandle(channel, () => this.connectionLost()));
      });
    }).then((handle) => runProcess(handle, prepared, options));
  }

  /**
   * A command that ended without an exit code may have died with its
   * connection (host shut down, network gone). Wait briefly for the
   * connection to close to tell the two apart.
   */
  private async connectionLost(): Promise<string | undefined> {
    if (this.closed) return this.lostReason;
    const grace = new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 1500).unref());
    const outcome = await Promise.race([this.closedSignal.then(() => 'closed' as const), grace]);
    return outcome === 'closed' ? this.lostReason : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lostReason = 'connection closed';
    await new Promise<void>((resolve) => {
      this.client.once('close', () => resolve());
      this.client.end();
      setTimeout(resolve, 1000).unref();
    });
  }
}

function channelHandle(channel: ClientChannel, connectionLost: () => Promise<string | undefined>): ProcessHandle {
  const exited = new Promise<{ code: number | null; signal?: string }>((resolve, reject) => {
    let code: number | null = null;
    let signal: string | undefined;
    channel.on('exit', (c: number | null, s?: string) => {
      code = c;
      signal = s ?? undefined;
    });
    channel.on('close', () => {
      if (typeof code === 'number') return resolve({ code, signal });
      void connectionLost().then((reason) => {
        if (reason) reject(new UnreachableError(`connection lost while the command ran: ${reason}`));
        else resolve({ code, signal });
      });
    });
  });
  return {
    stdout: channel,
    stderr: channel.stderr,
    writeStdin: (data) => channel.write(data),
    endStdin: () => channel.end(),
    kill: () => {
      channel.signal('KILL');
      channel.close();
    },
    exited,
  };
}

type AuthStep =
  | { type: 'publickey'; username: string; key: ParsedKey }
  | { type: 'agent'; username: string; agent: string }
  | { type: 'password'; username: string; password: string };

function buildAuthQueue(auth: SshAuth, username: string): AuthStep[] {
  const steps: AuthStep[] = [];
  for (const k of auth.privateKeys) steps.push({ type: 'publickey', username, key: k.key });
  if (auth.agentSocket) steps.push({ type: 'agent', username, agent: auth.agentSocket });
  if (auth.password !== undefined) steps.push({ type: 'password', username, password: auth.password });
  return steps;
}
