/** `tsible inventory`: show an inventory as Ansible sees it (same JSON as `ansible-inventory --list`). */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { addInventoryOption, inventoryFrom } from './common.js';
import { EXIT } from './exit-codes.js';

interface InventoryOptions {
  inventory?: string[];
  list?: boolean;
  graph?: boolean;
  host?: string;
}

export function registerInventoryCommand(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('inventory')
    .summary('show hosts, groups and variables of an inventory')
    .description('Print an inventory the way ansible-inventory does: --list (JSON), --graph (tree) or --host NAME (its variables).');
  addInventoryOption(cmd);
  cmd
    .option('--list', 'all groups, hosts and host variables as JSON (ansible-inventory --list)')
    .option('--graph', 'the group tree (ansible-inventory --graph)')
    .option('--host <name>', 'the merged variables of one host as JSON')
    .action(async (opts: InventoryOptions) => {
      const modes = [opts.list, opts.graph, opts.host !== undefined].filter(Boolean).length;
      if (modes !== 1) throw new UsageError('choose exactly one of --list, --graph or --host NAME');
      const inventory = await inventoryFrom(opts.inventory);
      if (opts.list) process.stdout.write(JSON.stringify(inventory.toAnsibleList(), null, 4) + '\n');
      else if (opts.graph) process.stdout.write(inventory.toGraph() + '\n');
      else {
        if (!inventory.hasHost(opts.host!)) throw new UsageError(`host ${opts.host} is not in the inventory`);
        process.stdout.write(JSON.stringify(inventory.toAnsibleHost(opts.host!), null, 4) + '\n');
      }
      setExit(EXIT.ok);
    });
}
