import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  subject: string;
  messageId: string;
  headers: Record<string, string>;
}

export type FakeSmtpMode = "ok" | "451" | "550";

export interface FakeSmtp {
  host: string;
  port: number;
  received: ReceivedMail[];
  /** "451": transient failure (try again later); "550": permanent rejection. */
  setMode(mode: FakeSmtpMode): void;
  close(): Promise<void>;
}

function unfoldHeaders(raw: string): Record<string, string> {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? "";
  const out: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

/** A real SMTP server on loopback (smtp-server) that stores what it receives. */
export async function startFakeSmtp(opts: { user?: string; pass?: string } = {}): Promise<FakeSmtp> {
  let mode: FakeSmtpMode = "ok";
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authOptional: opts.user === undefined,
    closeTimeout: 200,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === opts.user && auth.password === opts.pass) cb(null, { user: auth.username });
      else cb(new Error("Invalid username or password"));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (mode !== "ok") {
          const err = new Error(
            mode === "451" ? "Requested action aborted: try again later" : "Mailbox unavailable",
          ) as Error & { responseCode: number };
          err.responseCode = Number(mode);
          cb(err);
          return;
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        const headers = unfoldHeaders(raw);
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        received.push({
          from,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject: headers["subject"] ?? "",
          messageId: headers["message-id"] ?? "",
          headers,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: "127.0.0.1",
    port,
    received,
    setMode: (m) => {
      mode = m;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
