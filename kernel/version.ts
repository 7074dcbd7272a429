// The version of this build, from package.json (dist/package.json in a compiled build carries it too).
import { readFileSync } from 'node:fs';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
