import { closeSync, openSync, readSync } from 'node:fs';

/** The first bytes of a file, enough to tell what it is (see ingest/sniff.ts) without reading megabytes. */
export function readHead(file: string, bytes = 8192): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(bytes);
    return b.subarray(0, readSync(fd, b, 0, b.length, 0));
  } finally {
    closeSync(fd);
  }
}
