import pino from 'pino';

/**
 * Structured JSON logs. Patient data never goes in: log resource types, ids, counts, timings
 * and error codes, never resource bodies, names or identifiers. The redact list is a second
 * line of defence for fields that should never have been passed.
 */
export function createLogger(level: string) {
  return pino({
    level,
    base: { service: 'fhir-gateway' },
    redact: { paths: ['body', 'resource', 'req.headers.authorization', 'req.headers.cookie', '*.body', '*.resource'], censor: '[redacted]' },
  });
}

export type Logger = ReturnType<typeof createLogger>;
