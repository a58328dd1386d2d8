/** `tsible lab`: real hosts in containers for trying playbooks (like Molecule, built in). */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { ensureLabImage } from '../lab/image.js';
import { startLab, stopLab } from '../lab/lab.js';
import { addInventoryOption, inventoryFrom } from './common.js';
import { EXIT } from './exit-codes.js';

interface LabOptions {
  inventory?: string[];
  dir: string;
  name: string;
}

const DEFAULT_DIR = '.tsible/lab';

export function registerLabCommand(program: Command, setExit: (code: number) => void): void {
  const lab = program
    .command('lab')
    .summary('start or remove lab hosts in containers')
    .description(
      'Start one Debian 13 container per inventory host, with systemd and sshd, on a private network where hosts\n' +
        'resolve each other by name. Writes an inventory, an SSH key and known_hosts into --dir.',
    );
  const up = lab.command('up').description('start a container for every host of the inventory');
  addInventoryOption(up);
  up.option('--dir <dir>', 'where to write inventory.yml, the key and known_hosts', DEFAULT_DIR)
    .option('--name <name>', 'lab name (containers are labelled with it)', 'default')
    .action(async (opts: LabOptions) => {
      const inventory = await inventoryFrom(opts.inventory);
      const hosts = inventory.hostNames();
      if (hosts.length === 0) throw new UsageError('the inventory has no hosts');
      const groups: Record<string, { hosts: string[]; children: string[] }> = {};
      for (const g of inventory.groupNames()) {
        if (g === 'all' || g === 'ungrouped') continue;
        groups[g] = { hosts: inventory.groupHosts(g), children: inventory.groupChildren(g) };
      }
      const progress = (msg: string) => process.stderr.write(`lab: ${msg}\n`);
      await ensureLabImage({ onProgress: progress });
      const started = Date.now();
      const result = await startLab({ name: opts.name, hosts, groups, dir: resolve(opts.dir), onProgress: progress });
      process.stderr.write(`lab: ${hosts.length} host(s) up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      for (const h of result.hosts) process.stdout.write(`${h.name}\t${h.address}\n`);
      process.stdout.write(`inventory: ${result.inventoryPath}\n`);
      setExit(EXIT.ok);
    });
  lab
    .command('down')
    .description('remove the lab containers, network and files')
    .option('--dir <dir>', 'the lab directory', DEFAULT_DIR)
    .action(async (opts: LabOptions) => {
      await stopLab(resolve(opts.dir));
      setExit(EXIT.ok);
    });
}
