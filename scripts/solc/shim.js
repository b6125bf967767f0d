#!/usr/bin/env node
// A solc command line over npm's solc-js, for py-solc-x and ape-solidity (no native solc, no download).
//
// Usage: node shim.js <npm package of solc-js> [--version | --standard-json [--base-path P] [--include-path P]...]
// `make setup` writes one executable `solc-vX.Y.Z` per pinned npm alias under .solc/ (SOLCX_BINARY_PATH);
// each calls this file with its package. solc-js's own CLI prints a line before its JSON, which
// py-solc-x cannot parse: this answers `--version` and `--standard-json` (stdin to stdout) only.
"use strict";
const fs = require("fs");
const path = require("path");

const [pkg, ...args] = process.argv.slice(2);
const solc = require(pkg);

if (args.includes("--version")) {
  // py-solc-x matches `Version: X.Y.Z+commit.<hash>...`.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("solc shim: only --version and --standard-json are supported\n");
  process.exit(2);
}

const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--base-path" || args[i] === "--include-path") roots.push(args[++i]);
  else if (args[i].startsWith("--base-path=") || args[i].startsWith("--include-path=")) roots.push(args[i].split("=")[1]);
}
if (roots.length === 0) roots.push(process.cwd());

// Imports not given inline in the input are read from the base and include paths (as solc does).
function findImports(importPath) {
  for (const root of roots) {
    const file = path.resolve(root, importPath);
    if (fs.existsSync(file)) return { contents: fs.readFileSync(file, "utf8") };
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
