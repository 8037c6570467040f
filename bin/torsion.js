#!/usr/bin/env node
// The `torsion` command: runs a plugin's service (docs/runner.md).
import { main } from '../dist/src/runner/main.js';

process.exitCode = await main(process.argv.slice(2));
