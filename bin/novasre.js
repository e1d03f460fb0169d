#!/usr/bin/env node
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
if (!existsSync(main)) {
  process.stderr.write(
    "novasre is not built yet: run `npm install` (or `npm run build`) in the project folder first.\n",
  );
  process.exit(1);
}
const { runCli } = await import(main);
process.exitCode = await runCli(process.argv.slice(2));
