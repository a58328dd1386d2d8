/** The list of every module; the registry indexes it by name. */
import type { AnyModule } from './types.js';
import { commandModule, shellModule, rawModule } from './command.js';
import { assertModule, failModule } from './assert.js';
import debug from './debug.js';
import setFact from './set-fact.js';
import meta from './meta.js';
import ping from './ping.js';
import waitFor from './wait-for.js';
import includeVars from './include-vars.js';
import setup from './setup.js';

export const ALL_MODULES: readonly AnyModule[] = [
  commandModule,
  shellModule,
  rawModule,
  assertModule,
  failModule,
  debug,
  setFact,
  meta,
  ping,
  waitFor,
  includeVars,
  setup,
] as unknown as AnyModule[];
