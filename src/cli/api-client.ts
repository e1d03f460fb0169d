import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "./output.js";

export interface ApiTarget {
  url: string;
  token: string | undefined;
}

export function apiTarget(
  opts: { url?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
): ApiTarget {
  return {
    url: (opts.url ?? env["NOVASRE_URL"] ?? "http://127.0.0.1:8480").replace(/\/+$/, ""),
    token: opts.token ?? env["NOVASRE_TOKEN"],
  };
}

/** Calls the REST API; an error answer becomes a one-line message with the server's code. */
export async function callApi(t: ApiTarget, method: string, path: string, body?: unknown): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(t.url + path, {
      method,
      headers: {
        ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    throw new CliExit(
      EXIT_FAILURE,
      `error: cannot reach ${t.url}: ${(e as Error).message} (is \`novasre serve\` running? set --url or NOVASRE_URL)`,
    );
  }
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const b = (await res.json()) as { error?: { code?: string; message?: string } };
      if (b.error) msg = `${b.error.code}: ${b.error.message}`;
    } catch {
      // not JSON; keep the status line
    }
    const hint =
      res.status === 401 ? " (set --token or NOVASRE_TOKEN; create one with `novasre token create`)" : "";
    throw new CliExit(res.status >= 500 ? EXIT_FAILURE : EXIT_USAGE, `error: ${msg}${hint}`);
  }
  return res;
}
