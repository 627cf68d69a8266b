#!/usr/bin/env node
// Entry point of `npx fhir-gateway <command>`: the compiled CLI lives in dist/.
require('../dist/src/cli/main.js').main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => { console.error(err && err.message ? err.message : String(err)); process.exit(2); },
);
