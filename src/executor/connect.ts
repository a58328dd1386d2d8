/**
 * From a host's variables to how to reach it: Ansible's connection variables
 * (and tsible_* aliases) become a ConnectionSpec and a become setting.
 */
import { connectionVars } from '../inventory/connection-vars.js';
import type { BecomeSpec, ConnectionSpec } from '../connection/types.js';
import { UsageError } from '../errors.js';

export interface ConnectOverrides {
  user?: string;
  privateKeyFile?: string;
  connectTimeoutMs: number;
  /** CLI -b / --become-user / -K; inventory variables may turn become on per host too. */
  become?: boolean;
  becomeUser?: string;
  becomePassword?: string;
}

/** Ansible uses a local connection for the implicit localhost (not listed in the inventory). */
export function connectionSpecFor(host: string, vars: Record<string, unknown>, o: ConnectOverrides, inInventory = true): ConnectionSpec {
  const c = connectionVars(vars);
  const transport = c.connection ?? (!inInventory && isLocalName(host) ? 'local' : 'ssh');
  if (transport !== 'ssh' && transport !== 'local') {
    throw new UsageError(`host ${host}: connection type "${String(transport)}" is not supported (use ssh or local)`);
  }
  const port = c.port === undefined ? 22 : Number(c.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new UsageError(`host ${host}: ansible_port must be a port number, got ${JSON.stringify(c.port)}`);
  }
  const keyFile = o.privateKeyFile ?? c.privateKeyFile;
  return {
    host,
    transport,
    address: c.address ?? host,
    port,
    user: o.user ?? c.user ?? '',
    privateKeyFiles: keyFile ? [keyFile] : [],
    password: c.password,
    proxyJump: c.proxyJump,
    connectTimeoutMs: o.connectTimeoutMs,
  };
}

export function knownHostsFileFor(vars: Record<string, unknown>): string | undefined {
  return connectionVars(vars).knownHostsFile;
}

export function becomeFor(vars: Record<string, unknown>, o: ConnectOverrides): BecomeSpec | undefined {
  const c = connectionVars(vars);
  const enabled = o.become ?? c.becomeEnabled ?? false;
  if (!enabled) return undefined;
  return {
    user: o.becomeUser ?? c.becomeUser ?? 'root',
    method: (c.becomeMethod ?? 'sudo') as BecomeSpec['method'],
    password: o.becomePassword ?? c.becomePassword,
  };
}

function isLocalName(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '::1';
}

/**
 * The connection variables of `host`, templated (and vault-decrypted) in the
 * host's own scope, so `ansible_host: "{{ internal_ip }}"` or a vaulted
 * become password work the same in `tsible run` and in playbooks.
 */
export function renderedConnectionVars(raw: Record<string, unknown>, get: (name: string) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(raw)) {
    if (/^(ansible|tsible)_/.test(k)) out[k] = get(k);
  }
  return out;
}
