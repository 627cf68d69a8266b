import { existsSync, readFileSync } from 'node:fs';
import { FhirError, hasErrors, issue, toOperationOutcome, type Issue } from '../../fhir/outcome';
import { parseFhirXml } from '../../fhir/xml';
import { validateResource } from '../../validation';

export const summary = 'validate <file.json|file.xml> [--profile URL]...: print an OperationOutcome; exit 1 on errors';

const USAGE = 'usage: fhir-gateway validate <file.json|file.xml> [--profile URL]...\n';

/** JSON or FHIR XML text to a resource, or the issues that say why it cannot be read. */
export function readResource(text: string): { resource?: unknown; issues: Issue[] } {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('<')) {
    try {
      return { resource: parseFhirXml(body), issues: [] };
    } catch (e) {
      if (e instanceof FhirError) return { issues: e.issues.map((i) => ({ ...i, severity: 'fatal' as const })) };
      throw e;
    }
  }
  try {
    return { resource: JSON.parse(body) as unknown, issues: [] };
  } catch (e) {
    return { issues: [issue('fatal', 'structure', `Error parsing JSON: ${(e as Error).message}`)] };
  }
}

export async function run(args: string[]): Promise<number> {
  const profiles: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--profile') {
      const url = args[++i];
      if (!url) return usage('--profile needs a URL');
      profiles.push(url);
    } else if (a.startsWith('--profile=')) profiles.push(a.slice('--profile='.length));
    else if (a.startsWith('-')) return usage(`unknown option ${a}`);
    else files.push(a);
  }
  if (files.length !== 1) return usage('exactly one file is needed');
  const file = files[0]!;
  if (!existsSync(file)) return usage(`no such file: ${file}`);
  const { resource, issues } = readResource(readFileSync(file, 'utf8'));
  const all = resource === undefined ? issues : validateResource(resource, { profiles });
  const outcome = toOperationOutcome(all.length ? all : [issue('information', 'informational', 'All OK')]);
  process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  return hasErrors(all) ? 1 : 0;
}

function usage(why: string): number {
  process.stderr.write(`${why}\n${USAGE}`);
  return 2;
}
