import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

export type IssueSeverity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];

/** One issue as every room reports it; `expression` is a FHIRPath location such as `Patient.name[0].given[1]`. */
export interface Issue {
  severity: IssueSeverity;
  code: IssueCode;
  diagnostics: string;
  expression?: string;
}

export function issue(severity: IssueSeverity, code: IssueCode, diagnostics: string, expression?: string): Issue {
  return expression === undefined ? { severity, code, diagnostics } : { severity, code, diagnostics, expression };
}

export function toOperationOutcome(issues: Issue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code,
      details: { text: i.diagnostics },
      diagnostics: i.diagnostics,
      ...(i.expression ? { expression: [i.expression] } : {}),
    })),
  };
}

export function hasErrors(issues: Issue[]): boolean {
  return issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}

/**
 * The one error type that crosses rooms: anything thrown as a FhirError becomes an
 * OperationOutcome with this HTTP status at the edge. Anything else is a 500 with no detail.
 */
export class FhirError extends Error {
  readonly status: number;
  readonly issues: Issue[];

  constructor(status: number, issues: Issue[] | string, code: IssueCode = 'invalid') {
    const list = typeof issues === 'string' ? [issue('error', code, issues)] : issues;
    super(list.map((i) => i.diagnostics).join('; '));
    this.status = status;
    this.issues = list;
  }

  outcome(): OperationOutcome {
    return toOperationOutcome(this.issues);
  }
}

export const badRequest = (msg: string, expression?: string) => new FhirError(400, [issue('error', 'invalid', msg, expression)]);
export const notFound = (msg: string) => new FhirError(404, msg, 'not-found');
export const unprocessable = (issues: Issue[]) => new FhirError(422, issues);
