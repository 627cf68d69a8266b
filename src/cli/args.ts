import { parseArgs } from 'node:util';

/**
 * The one argument parser of every command (`node:util` parseArgs): `--format=x` and
 * `--format x` both work, `--help` is on every command, and anything wrong is said with the
 * choices there are (exit 2). A command declares what it takes; main.ts does the rest.
 */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** How the value is named in the help (`--url <gateway>`). */
  value?: string;
  help: string;
  multiple?: boolean;
  required?: boolean;
  /** The values a string option takes; any other is refused with this list. */
  choices?: readonly string[];
}

export interface CommandSpec {
  /** One line: what the command does. */
  summary: string;
  /** The positional argument, e.g. `<file>`; exactly one is taken. */
  positional: string;
  options: Record<string, OptionSpec>;
  /** More lines for `--help`. */
  notes?: string[];
}

export interface ParsedArgs {
  positional: string;
  values: Record<string, string | string[] | boolean | undefined>;
}

/** A usage error: main prints it with the command's usage and exits 2. */
export class UsageError extends Error {}

export function usageLine(name: string, spec: CommandSpec): string {
  const opts = Object.entries(spec.options).map(([k, o]) => {
    const v = o.type === 'string' ? ` <${o.choices ? o.choices.join('|') : (o.value ?? 'value')}>` : '';
    return o.required ? `--${k}${v}` : `[--${k}${v}]${o.multiple ? '...' : ''}`;
  });
  return `fhir-gateway ${name} ${spec.positional} ${opts.join(' ')}`;
}

export function helpText(name: string, spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([k, o]) => {
    const left = `--${k}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}`;
    const choices = o.choices ? `: ${o.choices.join(', ')}` : '';
    return `  ${left.padEnd(24)} ${o.help}${choices}${o.required ? ' [required]' : ''}`;
  });
  return [`usage: ${usageLine(name, spec)}`, '', spec.summary, '', 'options:', ...rows, `  ${'--help'.padEnd(24)} this text`, ...(spec.notes?.length ? ['', ...spec.notes] : []), ''].join('\n');
}

const optionList = (spec: CommandSpec) => [...Object.keys(spec.options).map((k) => `--${k}`), '--help'].join(', ');

/** `undefined` when `--help` was asked for (the caller prints the help and exits 0). */
export function parseCommandArgs(spec: CommandSpec, args: string[]): ParsedArgs | undefined {
  const options = Object.fromEntries([
    ...Object.entries(spec.options).map(([k, o]) => [k, { type: o.type, ...(o.multiple ? { multiple: true } : {}) }] as const),
    ['help', { type: 'boolean', short: 'h' }] as const,
  ]);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(describeParseError(e as Error & { code?: string }, spec));
  }
  const values = parsed.values as ParsedArgs['values'];
  if (values.help) return undefined;
  for (const [k, o] of Object.entries(spec.options)) {
    const v = values[k];
    if (o.required && v === undefined) throw new UsageError(`--${k} is required`);
    for (const one of Array.isArray(v) ? v : typeof v === 'string' ? [v] : []) {
      if (one === '' || (one.startsWith('--') && o.type === 'string')) throw new UsageError(`--${k} needs a value${o.choices ? `: one of ${o.choices.join(', ')}` : ''}`);
      if (o.choices && !o.choices.includes(one)) throw new UsageError(`--${k} '${one}' is not one of ${o.choices.join(', ')}`);
    }
  }
  if (parsed.positionals.length !== 1) {
    throw new UsageError(parsed.positionals.length === 0 ? `${spec.positional} is missing` : `one ${spec.positional} is taken, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`);
  }
  return { positional: parsed.positionals[0]!, values };
}

function describeParseError(e: Error & { code?: string }, spec: CommandSpec): string {
  const name = /'(-[^' ]+)/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${name ?? ''}; the options are ${optionList(spec)}`.replace('  ', ' ');
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const key = name?.replace(/^-+/, '').split(/[ =]/)[0] ?? '';
      const o = spec.options[key];
      if (o?.type === 'boolean') return `--${key} takes no value`;
      return `--${key} needs a value${o?.choices ? `: one of ${o.choices.join(', ')}` : ''}`;
    }
    default:
      return e.message;
  }
}
