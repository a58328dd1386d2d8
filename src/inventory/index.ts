/** The inventory layer: sources (INI, YAML, directories, host lists), variables, host patterns, node sets. */
export { Inventory, inventoryFromText, loadInventory, type LoadInventoryOptions } from './inventory.js';
export { LOCALHOST_NAMES, selectHosts, splitHostPattern, type PatternTarget } from './pattern.js';
export { expandAnsibleRange, expandNodeSet, foldNodeSet, naturalCompare } from './nodeset.js';
export { connectionVars, type ConnectionVars } from './connection-vars.js';
export type { DecryptFile } from './vars-files.js';
