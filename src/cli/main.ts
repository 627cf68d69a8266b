import { helpText, parseCommandArgs, UsageError, usageLine, type CommandSpec, type ParsedArgs } from './args';

/**
 * `fhir-gateway <command> [args]`. Each command is one file in `commands/` exporting its
 * `spec` (what it takes, see args.ts) and `run(args): Promise<number>` (the process exit code);
 * parsing, `--help` and usage errors (exit 2) are handled here, the same for every command.
 */
export interface Command {
  spec: CommandSpec;
  run(args: ParsedArgs): Promise<number>;
}

const COMMANDS = ['validate', 'convert', 'ingest', 'clients'] as const;

// require, not import(): the compiled CommonJS resolves the file without an extension.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (name: string) => require(`./commands/${name}`) as Command;

function overview(): string {
  return ['usage: fhir-gateway <command> [options]   (fhir-gateway <command> --help for its options)', '', 'commands:', ...COMMANDS.map((c) => `  ${c.padEnd(10)} ${load(c).spec.summary}`), ''].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview());
    return 0;
  }
  if (!name || !(COMMANDS as readonly string[]).includes(name)) {
    process.stderr.write(`${name ? `unknown command '${name}'` : 'no command given'}; the commands are ${COMMANDS.join(', ')}\n\n${overview()}`);
    return 2;
  }
  const cmd = load(name);
  let parsed: ParsedArgs | undefined;
  try {
    parsed = parseCommandArgs(cmd.spec, args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`fhir-gateway ${name}: ${e.message}\nusage: ${usageLine(name, cmd.spec)}\n(fhir-gateway ${name} --help for more)\n`);
    return 2;
  }
  if (!parsed) {
    process.stdout.write(helpText(name, cmd.spec));
    return 0;
  }
  return cmd.run(parsed);
}
