/**
 * What the executor needs from the templating layer, in one place: scopes
 * made of precedence layers, rendering of task values, conditions and
 * template files.
 */
export { Templar, VarScope, OMIT, stripOmit } from '../template/index.js';
export type { ScopeLayer } from '../template/index.js';
