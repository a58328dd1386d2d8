/**
 * Opens each host's connection once per run and hands the same one to every
 * task. Failures are remembered too: an unreachable host is tried once, not
 * once per task. Jump hosts (ProxyJump) are shared by all hosts behind them.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ParsedKey } from 'ssh2';
import { TsibleError, UnreachableError, UsageError } from '../errors.js';
import { KnownHostsFile } from './known-hosts.js';
import { LocalConnection } from './local.js';
import type { HostKeyPolicy, SshAuth, SshConnection } from './ssh.js';
import { dialTcp } from './tcp.js';

// ssh2 is the biggest library tsible loads; it is imported once a connection is
// actually wanted, after that connection's TCP dial has gone out.
const sshModule = () => import('./ssh.js');
const parseKey = async (key: Buffer, passphrase?: string) => (await import('ssh2')).default.utils.parseKey(key, passphrase);
import { loadSshConfig, type SshConfigLookup } from './ssh-config.js';
import type { Connection, ConnectionSpec } from './types.js';
import type { Duplex } from 'node:stream';

export interface ConnectionManagerOptions {
  knownHostsPath?: string;
  hostKeyPolicy: HostKeyPolicy;
  sshConfigPath?: string;
  /** Asks for a key's passphrase (only called for encrypted keys). */
  askPassphrase?: (keyPath: string) => Promise<string>;
  debug?: (host: string, msg: string) => void;
}

interface KeyFile {
  path: string;
  /** parsed (and decrypted) once, however many hosts use it */
  key: ParsedKey;
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export class ConnectionManager {
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly jumps = new Map<string, Promise<SshConnection>>();
  private readonly keys = new Map<string, Promise<KeyFile | undefined>>();
  private readonly knownHostsFiles = new Map<string, KnownHostsFile>();
  private sshConfig: Promise<SshConfigLookup> | undefined;
  private passphrasePrompts: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ConnectionManagerOptions) {}

  /** The host's connection, opened on first use. Rejects with UnreachableError/HostKeyError. */
  get(spec: ConnectionSpec, knownHostsPath?: string): Promise<Connection> {
    let conn = this.connections.get(spec.host);
    if (!conn) {
      conn = this.open(spec, knownHostsPath);
      this.connections.set(spec.host, conn);
      conn.catch(() => undefined);
    }
    return conn;
  }

  /** Forget a host's connection (after it was lost), so a later `get` reconnects. */
  forget(host: string): void {
    this.connections.delete(host);
  }

  async closeAll(): Promise<void> {
    const all = [...this.connections.values(), ...this.jumps.values()];
    this.connections.clear();
    this.jumps.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close()).catch(() => undefined)));
  }

  private knownHosts(path?: string): KnownHostsFile {
    const p = path ?? this.options.knownHostsPath ?? join(homedir(), '.ssh', 'known_hosts');
    let f = this.knownHostsFiles.get(p);
    if (!f) {
      f = new KnownHostsFile(p);
      this.knownHostsFiles.set(p, f);
    }
    return f;
  }

  private async open(spec: ConnectionSpec, knownHostsPath?: string): Promise<Connection> {
    if (spec.transport === 'local') return new LocalConnection(spec.host);
    const config = await this.config();
    const fromConfig = config.lookup(spec.address);
    const address = fromConfig.hostName ?? spec.address;
    const port = spec.port || fromConfig.port || 22;
    const user = spec.user || fromConfig.user || process.env.USER || 'root';
    const proxyJump = spec.proxyJump ?? fromConfig.proxyJump;
    const keyPaths = spec.privateKeyFiles.length ? spec.privateKeyFiles : fromConfig.identityFiles;
    const jumping = proxyJump !== undefined && proxyJump !== 'none';
    // Dial first: the host's sshd starts up while keys are read and ssh2 loads.
    const dialing = jumping ? undefined : dialTcp(address, port, spec.connectTimeoutMs, spec.host);
    dialing?.catch(() => undefined);
    let auth: SshAuth;
    let SshConnection: typeof import('./ssh.js').SshConnection;
    try {
      [auth, { SshConnection }] = await Promise.all([this.auth(keyPaths, spec.password, spec.host), sshModule()]);
    } catch (err) {
      void dialing?.then((socket) => socket.destroy(), () => undefined);
      throw err;
    }
    let tunnel: Duplex | undefined = dialing ? await dialing : undefined;
    if (jumping) {
      const jump = await this.jumpChain(proxyJump, auth, spec, knownHostsPath);
      tunnel = await jump.forward(address, port);
    }
    return SshConnection.open({
      endpoint: { host: spec.host, address, port, user },
      auth,
      knownHosts: this.knownHosts(knownHostsPath),
      hostKeyPolicy: this.options.hostKeyPolicy,
      connectTimeoutMs: spec.connectTimeoutMs,
      tunnel,
      debug: this.options.debug ? (m) => this.options.debug!(spec.host, m) : undefined,
    });
  }

  /** Opens (or reuses) each hop of `a,b,c` in turn; returns the last hop. */
  private async jumpChain(chain: string, targetAuth: SshAuth, spec: ConnectionSpec, knownHostsPath?: string): Promise<SshConnection> {
    let previous: SshConnection | undefined;
    let key = '';
    for (const hop of chain.split(',').map((h) => h.trim()).filter(Boolean)) {
      key += `>${hop}`;
      const via = previous;
      let jump = this.jumps.get(key);
      if (!jump) {
        jump = this.openJump(hop, via, targetAuth, spec, knownHostsPath);
        this.jumps.set(key, jump);
        jump.catch(() => undefined);
      }
      try {
        previous = await jump;
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new UnreachableError(`cannot reach jump host ${hop}: ${why}`, { host: spec.host, cause: err });
      }
    }
    if (!previous) throw new UsageError(`empty ProxyJump for host ${spec.host}`);
    return previous;
  }

  private async openJump(hop: string, via: SshConnection | undefined, targetAuth: SshAuth, spec: ConnectionSpec, knownHostsPath?: string): Promise<SshConnection> {
    const parsed = parseJumpHop(hop);
    const config = (await this.config()).lookup(parsed.host);
    const address = config.hostName ?? parsed.host;
    const port = parsed.port ?? config.port ?? 22;
    const user = parsed.user ?? config.user ?? spec.user;
    const auth = config.identityFiles.length ? await this.auth(config.identityFiles, undefined, hop) : targetAuth;
    const tunnel = via ? await via.forward(address, port) : undefined;
    const { SshConnection } = await sshModule();
    return SshConnection.open({
      endpoint: { host: `jump ${hop}`, address, port, user },
      auth,
      knownHosts: this.knownHosts(knownHostsPath),
      hostKeyPolicy: this.options.hostKeyPolicy,
      connectTimeoutMs: spec.connectTimeoutMs,
      tunnel,
    });
  }

  private config(): Promise<SshConfigLookup> {
    this.sshConfig ??= loadSshConfig(this.options.sshConfigPath ?? join(homedir(), '.ssh', 'config'));
    return this.sshConfig;
  }

  private async auth(keyPaths: string[], password: string | undefined, host: string): Promise<SshAuth> {
    const explicit = keyPaths.length > 0;
    const paths = explicit ? keyPaths : DEFAULT_IDENTITIES.map((n) => join(homedir(), '.ssh', n)).filter((p) => existsSync(p));
    const keys = (await Promise.all(paths.map((p) => this.loadKey(expandHome(p), explicit, host)))).filter(
      (k): k is KeyFile => k !== undefined,
    );
    return { privateKeys: keys, agentSocket: process.env.SSH_AUTH_SOCK || undefined, password };
  }

  private loadKey(path: string, required: boolean, host: string): Promise<KeyFile | undefined> {
    let k = this.keys.get(path);
    if (!k) {
      k = this.readKey(path, required, host);
      this.keys.set(path, k);
    }
    return k;
  }

  private async readKey(path: string, required: boolean, host: string): Promise<KeyFile | undefined> {
    let key: Buffer;
    try {
      key = await readFile(path);
    } catch (err) {
      if (!required) return undefined;
      throw new UsageError(`cannot read private key ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`, { host });
    }
    const parsed = await parseKey(key);
    if (!(parsed instanceof Error)) return { path, key: parsed };
    if (!/encrypted|passphrase/i.test(parsed.message)) {
      throw new UsageError(`cannot parse private key ${path}: ${parsed.message}`, { host });
    }
    const ask = this.options.askPassphrase;
    if (!ask) throw new UsageError(`private key ${path} is encrypted and no passphrase can be asked for`, { host });
    // One prompt at a time: many hosts may need the same key at once.
    const next = this.passphrasePrompts.then(async () => {
      const passphrase = await ask(path);
      const check = await parseKey(key, passphrase);
      if (check instanceof Error) throw new TsibleError(`wrong passphrase for ${path}`, { host });
      return { path, key: check } as KeyFile;
    });
    this.passphrasePrompts = next.catch(() => undefined);
    return next;
  }
}

function expandHome(p: string): string {
  return p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** `[user@]host[:port]`, also `user@[::1]:2222`. */
export function parseJumpHop(hop: string): { user?: string; host: string; port?: number } {
  let rest = hop;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) return { user, host: bracket[1]!, port: bracket[2] ? Number(bracket[2]) : undefined };
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(rest.slice(colon + 1))) {
    return { user, host: rest.slice(0, colon), port: Number(rest.slice(colon + 1)) };
  }
  return { user, host: rest };
}
