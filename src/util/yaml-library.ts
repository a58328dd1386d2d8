/**
 * The `yaml` package, loaded on first use. It is the biggest module tsible
 * loads (~50 ms), and `tsible run` with an INI inventory never needs it.
 * Everything goes through this one loader so only one copy is ever loaded.
 */
import { createRequire } from 'node:module';

type YamlLibrary = typeof import('yaml');

let loaded: YamlLibrary | undefined;

export function yamlLibrary(): YamlLibrary {
  loaded ??= createRequire(import.meta.url)('yaml') as YamlLibrary;
  return loaded;
}
