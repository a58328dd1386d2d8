/**
 * What a running template can reach besides its variables: the Templar's
 * services (vault decryption, controller file lookups, warnings). Filters,
 * tests and lookups receive it; nothing else is global.
 */
import type { SourceLocation } from '../errors.js';
import type { VaultedText } from '../util/markers.js';
import type { SourceRenderer, VarScope } from './scope.js';

export interface TemplarServices {
  decrypt(v: VaultedText, where?: SourceLocation): string;
  warn(message: string, where?: SourceLocation): void;
  /** Directories searched for `lookup('file')`, `{% include %}` ...: role dir, configured paths, playbook dir. */
  searchRoots(scope: VarScope): string[];
  /** lookup('template', ...) */
  renderFile(path: string, scope: VarScope): string;
  /** The controller environment, for lookup('env'). */
  readonly environ: Record<string, string | undefined>;
}

export interface RenderState {
  scope: VarScope;
  templar: TemplarServices & SourceRenderer;
  /** the template file being rendered, if any (for relative includes) */
  file?: string;
}
