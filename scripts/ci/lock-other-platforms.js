#!/usr/bin/env node
// Records in package-lock.json the platform-specific optional binaries (of @swc/core, the jest
// resolver, …) for platforms other than this one. npm leaves them out when the registry it
// uses does not serve them, and `npm ci` then refuses the lockfile. Each entry carries its
// os/cpu, so npm skips it on install and never fetches it. Run after `npm install`.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const lockPath = path.join(root, 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'sunos', 'netbsd'];
const CPU = { x64: 'x64', arm64: 'arm64', ia32: 'ia32', arm: 'arm', ppc64: 'ppc64', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', wasm32: 'wasm32' };

let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `node_modules/${name}`;
    if (lock.packages[at] || lock.packages[`${key}/${at}`]) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((p) => OS.includes(p));
    const cpu = parts.map((p) => CPU[p]).find(Boolean);
    if (!os || !cpu) continue; // not a platform binary
    lock.packages[at] = { version, cpu: [cpu], os: [os], ...(entry.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`${added} platform entries recorded`);
