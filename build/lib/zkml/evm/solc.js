#!/usr/bin/env node
// An offline `solc` for py-solc-x and Foundry: npm's solcjs (WebAssembly) behind the native CLI's
// interface. `--version` prints "Version: 0.8.x+commit..."; anything else compiles standard JSON
// from stdin (solcjs's own CLI cannot read piped stdin). The npm `solc` module is taken from
// $ZKML_SOLC_MODULE, else found from the current folder or from this zkml checkout.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(process.env.ZKML_SOLC_MODULE ||
  require.resolve('solc', { paths: [process.cwd(), path.join(__dirname, '..', '..')] }));

if (process.argv.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const findImports = (file) => {
    try {
      return { contents: fs.readFileSync(path.resolve(file), 'utf8') };
    } catch (err) {
      return { error: `File not found: ${file}` };
    }
  };
  process.stdout.write(solc.compile(Buffer.concat(chunks).toString('utf8'), { import: findImports }));
});
