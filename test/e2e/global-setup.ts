/**
 * Runs once before the end-to-end tests: builds the lab image if this recipe
 * has none yet (about a minute, once per machine), so that test files only
 * start containers. The image build is also guarded by a lock, in case a CLI
 * invocation builds at the same time.
 */
import { ensureLabImage } from '../../src/lab/image.js';

export default async function setup(): Promise<void> {
  // Ryuk's image cannot be pulled here; labs remove their own containers.
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const started = Date.now();
  let building = false;
  const tag = await ensureLabImage({
    onProgress: (msg) => {
      building = true;
      process.stderr.write(`[lab image] ${msg}\n`);
    },
  });
  if (building) process.stderr.write(`[lab image] ${tag} ready after ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}
