import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `fhir-gateway <command> [args]`. Each command is one file in `commands/` exporting
 * `summary` and `run(args): Promise<number>` (the process exit code), so adding a command
 * touches nothing here.
 */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS = ['serve', 'validate', 'convert', 'ingest', 'clients'];

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const available = COMMANDS.filter((c) => existsSync(join(__dirname, 'commands', `${c}.js`)) || existsSync(join(__dirname, 'commands', `${c}.ts`)));
  if (!name || !available.includes(name)) {
    process.stderr.write(`usage: fhir-gateway <${available.join('|')}> [args]\n`);
    return 2;
  }
  // require, not import(): the compiled CommonJS resolves the file without an extension.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cmd = require(`./commands/${name}`) as Command;
  return cmd.run(args);
}
