/** Options and helpers shared by several commands. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { loadInventory, type Inventory } from '../inventory/index.js';
import { UsageError } from '../errors.js';

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
    return n;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addInventoryOption(cmd: Command): Command {
  return cmd.option(
    '-i, --inventory <path>',
    'inventory file, directory or comma-separated host list (repeatable; default $TSIBLE_INVENTORY)',
    collect,
  );
}

/** @param decryptFile opens vault-encrypted group_vars/host_vars files */
export async function inventoryFrom(paths: string[] | undefined, decryptFile?: (ciphertext: string, file: string) => string): Promise<Inventory> {
  const sources = paths?.length ? paths : process.env.TSIBLE_INVENTORY ? [process.env.TSIBLE_INVENTORY] : [];
  if (sources.length === 0) {
    throw new UsageError('no inventory given', { hint: 'pass -i FILE (for the built-in lab: -i .tsible/lab/inventory.yml) or set TSIBLE_INVENTORY' });
  }
  return loadInventory(sources, decryptFile ? { decryptFile } : undefined);
}

export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('-u, --user <user>', 'connect as this user (overrides ansible_user)')
    .option('--private-key <file>', 'private key file (overrides ansible_ssh_private_key_file)')
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against (default ~/.ssh/known_hosts)')
    .option('--accept-new', 'trust and record keys of hosts not yet in known_hosts (a changed key is still refused)')
    .option('-T, --timeout <seconds>', 'SSH connection timeout', positiveInt('--timeout'), 10)
    .option('-b, --become', 'run as another user (sudo)')
    .option('--become-user <user>', 'user to become', undefined)
    .option('-K, --ask-become-pass', 'ask for the sudo password (sent over stdin, never in argv)');
}

export interface ConnectionCliOptions {
  user?: string;
  privateKey?: string;
  knownHosts?: string;
  acceptNew?: boolean;
  timeout: number;
  become?: boolean;
  becomeUser?: string;
  askBecomePass?: boolean;
}
