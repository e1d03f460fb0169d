import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultServiceCommand } from "../src/demo/index.js";
import { waitFor } from "./support/ports.js";

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A supervisor that dies by SIGKILL cannot clean up; the service must notice on its own. This spawns a
 * stand-in supervisor (the same spawn shape Shop uses: IPC channel, own process group), kills it, and
 * watches the service go.
 */
describe("shop service processes", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "shop-orphans-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("exit when their supervisor is SIGKILLed (no orphans)", async () => {
    const demo = pathToFileURL(join(process.cwd(), "src/demo/index.ts")).href;
    const script = join(dir, "supervisor.mts");
    await writeFile(
      script,
      `import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { defaultServiceCommand, SERVICE_ENV } from ${JSON.stringify(demo)};
writeFileSync(${JSON.stringify(join(dir, "payments.json"))}, "{}");
const cmd = defaultServiceCommand();
const child = spawn(cmd.command, cmd.args, {
  env: { ...process.env, [SERVICE_ENV.service]: "payments", [SERVICE_ENV.instance]: "payments-0",
    [SERVICE_ENV.config]: ${JSON.stringify(join(dir, "payments.json"))}, [SERVICE_ENV.dataDir]: ${JSON.stringify(dir)} },
  stdio: ["ignore", "ignore", "inherit", "ipc"], detached: true,
});
child.on("message", (m) => process.stdout.write(JSON.stringify({ pid: child.pid, port: m.port }) + "\\n"));
setInterval(() => {}, 1000);
`,
    );
    const cmd = defaultServiceCommand();
    // The stand-in runs TypeScript too: reuse the loader flags the shop would use for services.
    const loader = cmd.args.slice(0, cmd.args.length - 1);
    const sup = spawn(process.execPath, [...loader, script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    sup.stdout.on("data", (c: Buffer) => (out += c.toString()));
    try {
      const { pid, port } = await waitFor(
        "the service to listen",
        () =>
          out.includes("\n") ? (JSON.parse(out.split("\n")[0]!) as { pid: number; port: number }) : undefined,
        60_000,
      );
      expect(alive(pid)).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      sup.kill("SIGKILL");
      await waitFor("the service to exit", () => !alive(pid), 20_000);
    } finally {
      sup.kill("SIGKILL");
    }
  });
});
