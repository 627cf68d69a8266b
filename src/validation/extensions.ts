import type { StructureDefinition } from 'fhir/r4';
import { SD_BASE } from '../fhir/definitions';
import { evaluateExpression } from './expressions';
import { structureDefinitionByUrl, typeNode } from './model';
import { checkAgainstProfile } from './profiles';
import { isExampleUrl } from './values';
import type { Walk } from './walk';

/**
 * An extension where it is used: its url (absolute, unversioned), its definition when known
 * (value types, sub-extensions, cardinalities, through the profile walk) and the contexts the
 * definition allows it in. An extension whose definition is not known here is a warning.
 */
export interface ExtensionHost {
  /** Definition path of the element carrying the extension, e.g. `Patient.name`. */
  path: string;
  /** Its type, e.g. `HumanName`, `boolean`, `Patient`. */
  type: string;
  /** Path the element has in its base definition (`DomainResource.text` for `Patient.text`). */
  basePath?: string;
  resource: boolean;
  /** url of the enclosing extension, when this is a sub-extension. */
  extensionUrl?: string;
  /** The element itself, for fhirpath contexts. */
  value?: unknown;
}

export function checkExtension(w: Walk, ext: Record<string, unknown>, host: ExtensionHost | undefined): void {
  const url = ext.url;
  if (typeof url !== 'string' || url === '') {
    w.report('error', 'structure', 'Extension.url is required in order to identify, use and validate the extension');
    return;
  }
  if (host?.extensionUrl && !url.includes(':')) return; // a sub-extension, checked by its parent's definition
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url)) {
    w.report('error', 'structure', 'Extension.url must be an absolute URL');
    return;
  }
  if (url.includes('|')) w.report('error', 'structure', 'The extension URL must not contain a version');
  const sd = structureDefinitionByUrl(url);
  if (!sd || sd.type !== 'Extension') {
    // HL7's own namespace is fully known here (core R4 and HL7's extension pack), so an unknown
    // URL in it is a mistake; anyone else's unknown extension (US Core, a hospital's) is a warning.
    // (An example URL where examples are not allowed is no real definition either.)
    if (url.startsWith(SD_BASE) || (!w.policy.allowExampleUrls && isExampleUrl(url))) w.report('error', 'structure', `The extension ${url} could not be found so is not allowed here`);
    else w.report('warning', 'structure', `The extension ${url} is unknown, and not checked`);
    return;
  }
  if (host && !contextAllows(sd, host, w.vars)) {
    const allowed = (sd.context ?? []).map((c) => `${c.type}=${c.expression}`).join(', ');
    w.report('error', 'business-rule', `The extension ${url} is not allowed to be used at this point (this element is [${host.type}, ${host.path}]; allowed = [${allowed}])`);
  } else if (host && sd.contextInvariant?.length) {
    for (const inv of sd.contextInvariant) {
      const r = evaluateExpression(inv, host.resource ? undefined : host.path, host.value, w.vars);
      if (r && r.length === 1 && r[0] === false) {
        w.report('error', 'business-rule', `The extension ${url} is not allowed to be used at this point (based on context invariant '${inv}')`);
      }
    }
  }
  checkAgainstProfile(w, ext, sd.url);
}

/** Resource types with url, version and status: R5's CanonicalResource, named in newer contexts. */
function canonicalResource(type: string): boolean {
  const n = typeNode(type);
  return !!n && 'url' in n.elements && 'version' in n.elements && 'status' in n.elements;
}

function contextAllows(sd: StructureDefinition, host: ExtensionHost, vars: Record<string, unknown>): boolean {
  const contexts = sd.context ?? [];
  if (!contexts.length) return true;
  return contexts.some((c) => {
    const e = c.expression;
    if (c.type === 'fhirpath') {
      const r = evaluateExpression(e, undefined, vars.resource, vars);
      return r === undefined || r.includes(host.value);
    }
    if (c.type === 'extension') return host.extensionUrl === e;
    if (e === 'Element' || e === host.path || e === host.type || e === host.basePath) return true;
    if (host.resource && (e === 'Resource' || e === 'DomainResource')) return true;
    if (host.resource && (e === 'CanonicalResource' || e === 'MetadataResource')) return canonicalResource(host.type);
    // a context on a datatype element inside another type, e.g. `Address.line` reached as Patient.address.line
    return host.path.endsWith(`.${e.split('.').slice(1).join('.')}`) && e.split('.')[0] === host.type.split('.')[0];
  });
}

export function hostOf(path: string, type: string, resource: boolean, extensionUrl?: string, basePath?: string, value?: unknown): ExtensionHost {
  return { path, type, resource, extensionUrl, basePath, value };
}

export function sdOf(url: string): StructureDefinition | undefined {
  return structureDefinitionByUrl(url);
}
