// Strict argument parsing for the project's commands (util.parseArgs): a flag the command does not know is a usage error naming the ones it does.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A wrong invocation: printed as its one-line message, exit code 2 (no stack: the fix is in the command line). */
export class UsageError extends Error {}

/** A command that ran and failed in a way its message says in full (a smoke step): one line, exit code 1. */
export class CommandFailed extends Error {}

export type Flags = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** "--yes, --help (-h)": the flags of `flags`, for error lines. */
export function flagList(flags: Flags): string {
  return Object.entries(flags)
    .map(([name, f]) => `--${name}${f.type === 'string' ? ' <value>' : ''}${f.short ? ` (-${f.short})` : ''}`)
    .join(', ');
}

/**
 * `args` of `command` parsed in strict mode; an unknown flag, a flag missing (or given) a value, or more than
 * `maxPositionals` arguments throws a UsageError.
 */
export function parseFlags(command: string, args: string[], flags: Flags, maxPositionals = Infinity): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options: flags, strict: true, allowPositionals: true }) as Parsed;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    // Node's message goes on about positionals after `--`; its first sentence names the flag.
    const problem = (err as Error).message.split('. ')[0];
    throw new UsageError(`${command}: ${problem}; valid flags: ${flagList(flags)}`);
  }
  const extra = parsed.positionals[maxPositionals];
  if (extra !== undefined) throw new UsageError(`${command}: unexpected argument "${extra}" (--help shows the usage)`);
  return parsed;
}
