// Builds native/splice.c (the chaos proxy's zero-copy forwarding) during `npm install`. Optional: where
// it cannot be built (no C compiler, not Linux) the proxy forwards in JavaScript, so this never fails
// the install; it says what happened in one line.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

if (process.platform !== "linux") process.exit(0);
// npm tells its scripts where its own node-gyp is; otherwise try one on PATH.
const gyp = process.env["npm_config_node_gyp"];
const [cmd, args] = gyp && existsSync(gyp) ? [process.execPath, [gyp]] : ["node-gyp", []];
const r = spawnSync(cmd, [...args, "rebuild"], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
if (r.status === 0) {
  process.stdout.write("novasre: built the zero-copy proxy addon (build/Release/splice.node)\n");
} else {
  const why =
    r.error?.message ?? (r.stderr ?? "").split("\n").find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
  process.stdout.write(
    `novasre: zero-copy proxy addon not built (${why.trim()}); the chaos proxy forwards in JavaScript\n`,
  );
}
