// Test support: the whole app in this process on a free port (a child process is kernel/spawn-app.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrap, type BootstrapOptions, type Kernel } from '../bootstrap.ts';
import type { Env } from '../config.ts';
import type { ModuleDefinition } from '../module.ts';
import { listen } from '../server.ts';
import { tempDir } from '../spawn-app.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export interface TestApp {
  url: string;
  kernel: Kernel;
  close(): Promise<void>;
}

/** The whole app in this process on a free port, on a fresh DATA_DIR, started and ready. */
export async function startTestApp(opts: Omit<BootstrapOptions, 'env'> & { env?: Env; modules?: ModuleDefinition<any>[] } = {}): Promise<TestApp> {
  const kernel = bootstrap({ ...opts, env: { LOG_LEVEL: 'silent', DATA_DIR: tempDir(), GRPC_PORT: '0', ...opts.env } });
  const running = await listen(kernel, 0, '127.0.0.1');
  try {
    await kernel.start();
  } catch (err) {
    await running.shutdown();
    throw err;
  }
  return { url: `http://127.0.0.1:${running.port}`, kernel, close: async () => void (await running.shutdown()) };
}
