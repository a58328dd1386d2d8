/** Does any path match a glob on the host? (creates= / removes=) */
import { sh } from '../util/shell.js';
import type { Fact } from './types.js';

// The pattern is expanded unquoted with IFS empty: pathname expansion happens, nothing else does.
export const pathExistsFact: Fact<{ pattern: string; chdir?: string }, boolean> = {
  name: 'path_exists',
  command: ({ pattern, chdir }) =>
    chdir
      ? sh`cd ${chdir} 2>/dev/null; p=${pattern}; IFS=; for f in $p; do if [ -e "$f" ] || [ -L "$f" ]; then echo yes; exit 0; fi; done; echo no`
      : sh`p=${pattern}; IFS=; for f in $p; do if [ -e "$f" ] || [ -L "$f" ]; then echo yes; exit 0; fi; done; echo no`,
  parse: (out) => out.stdout.trim() === 'yes',
};
