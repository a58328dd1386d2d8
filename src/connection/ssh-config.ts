/** ~/.ssh/config through the ssh-config library: Host, HostName, User, Port, IdentityFile, ProxyJump. */
import { readFile } from 'node:fs/promises';
import SSHConfig from 'ssh-config';
import { ParseError } from '../errors.js';

export interface SshConfigResult {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
}

export interface SshConfigLookup {
  lookup(host: string): SshConfigResult;
}

const EMPTY: SshConfigLookup = { lookup: () => ({ identityFiles: [] }) };

export async function loadSshConfig(path: string): Promise<SshConfigLookup> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return EMPTY;
  }
  return parseSshConfig(text, path);
}

export function parseSshConfig(text: string, path = 'ssh_config'): SshConfigLookup {
  let config: ReturnType<typeof SSHConfig.parse>;
  try {
    config = SSHConfig.parse(text);
  } catch (err) {
    throw new ParseError(`cannot parse ${path}: ${err instanceof Error ? err.message : err}`, { cause: err });
  }
  return {
    lookup(host: string): SshConfigResult {
      const c = config.compute(host) as Record<string, string | string[] | undefined>;
      const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
      const ids = c.IdentityFile;
      const port = first(c.Port);
      const hostName = first(c.HostName);
      return {
        hostName: hostName?.replace(/%h/g, host),
        user: first(c.User),
        port: port ? Number(port) : undefined,
        identityFiles: ids === undefined ? [] : Array.isArray(ids) ? ids : [ids],
        proxyJump: first(c.ProxyJump),
      };
    },
  };
}
