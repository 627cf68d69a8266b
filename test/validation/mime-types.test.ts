import { validateResource } from '../../src/validation';

/** MIME types are a grammar, not a list: a required binding to them checks the syntax. */
const errors = (contentType: string) => validateResource({ resourceType: 'Binary', contentType }).filter((i) => i.severity === 'error');

test.each(['application/xml', 'text/plain; charset=utf-8', 'application/pdf;name="giay ra vien.pdf"', 'application/fhir+json'])('%s is a MIME type', (ct) => {
  expect(errors(ct)).toEqual([]);
});

test.each(['xml-export', '[%payloadFormat%]', 'text/', 'pdf'])('%s is not', (ct) => {
  expect(errors(ct).map((i) => i.diagnostics)).toEqual([expect.stringMatching(/not found in the value set 'MimeType'/), expect.stringMatching(/System URI could not be determined/)]);
});
