/**
 * The connection settings a host's variables carry, read from Ansible's names
 * and tsible's aliases. Precedence, highest first:
 *
 *   tsible_*  >  legacy ansible_ssh_*  >  ansible_*
 *
 * The legacy names beating the modern ones is Ansible's own rule
 * (MAGIC_VARIABLE_MAPPING lists `ansible_ssh_host` before `ansible_host`);
 * likewise `ansible_become_pass` beats `ansible_become_password`.
 *
 * Values are read raw: a string that is still a template (`{{ ... }}`) is
 * returned as it is for string settings and for the port; templating them is
 * the caller's job. A variable set to null counts as not set, as in Ansible.
 */
import { UsageError } from '../errors.js';
import { UnsafeText, VaultedText } from '../util/markers.js';

export interface ConnectionVars {
  /** where to connect (ansible_host); the inventory name is the default, applied by the caller */
  address?: string;
  /** a number, or a string when it is still a template */
  port?: number | string;
  user?: string;
  privateKeyFile?: string;
  /** `smart` and `paramiko` mean ssh here */
  connection?: 'ssh' | 'local';
  password?: string;
  becomeEnabled?: boolean;
  becomeUser?: string;
  becomeMethod?: string;
  becomePassword?: string;
  /** ssh's ProxyJump: `[user@]host[:port]`, comma-separated for several hops */
  proxyJump?: string;
  knownHostsFile?: string;
}

/** For each setting, the variables that give it, highest precedence first. */
const NAMES = {
  address: ['tsible_host', 'ansible_ssh_host', 'ansible_host'],
  port: ['tsible_port', 'ansible_ssh_port', 'ansible_port'],
  user: ['tsible_user', 'ansible_ssh_user', 'ansible_user'],
  privateKeyFile: ['tsible_private_key_file', 'ansible_ssh_private_key_file', 'ansible_private_key_file'],
  connection: ['tsible_connection', 'ansible_connection'],
  password: ['tsible_password', 'ansible_ssh_password', 'ansible_ssh_pass', 'ansible_password'],
  becomeEnabled: ['tsible_become', 'ansible_become'],
  becomeUser: ['tsible_become_user', 'ansible_become_user'],
  becomeMethod: ['tsible_become_method', 'ansible_become_method'],
  becomePassword: ['tsible_become_password', 'ansible_become_pass', 'ansible_become_password'],
  proxyJump: ['tsible_proxy_jump', 'ansible_ssh_proxy_jump'],
  knownHostsFile: ['tsible_known_hosts_file'],
} as const satisfies Record<keyof ConnectionVars, readonly string[]>;

const TRUE_WORDS = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE_WORDS = new Set(['n', 'no', 'off', '0', 'false', 'f']);

/** Reads the connection settings from a host's (merged) variables. Throws UsageError on a value of the wrong type. */
export function connectionVars(hostvars: Record<string, unknown>): ConnectionVars {
  const pick = (setting: keyof typeof NAMES): [string, unknown] | undefined => {
    for (const name of NAMES[setting]) {
      const value = hostvars[name];
      if (value !== undefined && value !== null) return [name, value instanceof UnsafeText ? value.value : value];
    }
    return undefined;
  };
  const out: ConnectionVars = {};

  for (const setting of ['address', 'user', 'privateKeyFile', 'password', 'becomeUser', 'becomeMethod', 'becomePassword', 'proxyJump', 'knownHostsFile'] as const) {
    const found = pick(setting);
    if (found) out[setting] = asString(found[0], found[1]);
  }

  const port = pick('port');
  if (port) out.port = asPort(port[0], port[1]);

  const connection = pick('connection');
  if (connection) out.connection = asConnection(connection[0], connection[1]);

  const become = pick('becomeEnabled');
  if (become) out.becomeEnabled = asBoolean(become[0], become[1]);

  return out;
}

function isTemplate(value: unknown): value is string {
  return typeof value === 'string' && /\{\{|\{%/.test(value);
}

function received(value: unknown): string {
  if (Array.isArray(value)) return `a list ${JSON.stringify(value)}`;
  if (value !== null && typeof value === 'object') return `a mapping ${JSON.stringify(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function asString(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value instanceof VaultedText) {
    throw new UsageError(`${name} is vault-encrypted and was not decrypted`, {
      hint: 'read connection settings from templated host variables, which decrypts vaulted values',
    });
  }
  throw new UsageError(`${name} must be a string, got ${received(value)}`);
}

function asPort(name: string, value: unknown): number | string {
  if (isTemplate(value)) return value;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new UsageError(`${name} must be a port number (1-65535), got ${received(value)}`);
  }
  return n;
}

function asConnection(name: string, value: unknown): 'ssh' | 'local' {
  const text = typeof value === 'string' ? value.trim() : value;
  if (text === 'local') return 'local';
  if (text === 'ssh' || text === 'smart' || text === 'paramiko' || text === 'paramiko_ssh') return 'ssh';
  if (typeof value !== 'string') throw new UsageError(`${name} must be a string, got ${received(value)}`);
  throw new UsageError(`${name} "${value}" is not supported: tsible connects with ssh or local`, {
    hint: isTemplate(value) ? 'template the host variables before reading connection settings' : undefined,
  });
}

/** Ansible's boolean(): yes/no, true/false, on/off, 1/0 and friends, case-insensitive. */
function asBoolean(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const word = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (word !== undefined && TRUE_WORDS.has(word)) return true;
  if (word !== undefined && FALSE_WORDS.has(word)) return false;
  throw new UsageError(`${name} must be a boolean (true/false, yes/no), got ${received(value)}`, {
    hint: isTemplate(value) ? 'template the host variables before reading connection settings' : undefined,
  });
}
