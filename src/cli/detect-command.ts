import { CliExit } from "./output.js";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  createDetector,
  DEFAULT_LABEL_THRESHOLDS,
  DETECTOR_DESCRIPTIONS,
  DETECTOR_NAMES,
  isDetectorName,
  parseSeriesCsv,
} from "../detect/index.js";
import type { DetectionResult } from "../detect/index.js";

/** Files larger than this are refused: the command holds the whole series in memory. */
export const DETECT_MAX_FILE_BYTES = 512 * 1024 * 1024;

export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 2;

export interface DetectCommandOptions {
  detector?: string;
  json?: boolean;
  threshold?: string;
}

export interface DetectIo {
  readFile(path: string): Promise<string>;
  stdout(text: string): void;
  stderr(text: string): void;
}

const defaultIo: DetectIo = {
  readFile: (p) => readFile(p, "utf8"),
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export function detectorHelp(): string {
  const w = Math.max(...DETECTOR_NAMES.map((n) => n.length));
  return ["Detectors:", ...DETECTOR_NAMES.map((n) => `  ${n.padEnd(w)}  ${DETECTOR_DESCRIPTIONS[n]}`)].join(
    "\n",
  );
}

/**
 * `novasre detect FILE.csv`: scores a timestamp,value CSV offline (each sample only against the samples
 * before it, exactly as live) and prints the anomalies with their explanations. Returns the exit code:
 * 0 on success (anomalies or not), 2 on a user error, with one line on stderr.
 */
export async function runDetect(
  file: string,
  options: DetectCommandOptions,
  io: DetectIo = defaultIo,
): Promise<number> {
  const name = options.detector ?? "ensemble";
  if (!isDetectorName(name)) {
    io.stderr(
      `novasre detect: unknown detector ${JSON.stringify(name)}; choose one of ${DETECTOR_NAMES.join(", ")}\n`,
    );
    return EXIT_USER_ERROR;
  }
  let threshold = DEFAULT_LABEL_THRESHOLDS[name];
  if (options.threshold !== undefined) {
    threshold = Number(options.threshold);
    if (!(threshold >= 0 && threshold <= 1)) {
      io.stderr(
        `novasre detect: --threshold must be a number in [0, 1], got ${JSON.stringify(options.threshold)}\n`,
      );
      return EXIT_USER_ERROR;
    }
  }
  let text: string;
  try {
    text = await io.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    io.stderr(`novasre detect: cannot read ${file}: ${why}\n`);
    return EXIT_USER_ERROR;
  }
  if (text.length > DETECT_MAX_FILE_BYTES) {
    io.stderr(`novasre detect: ${file} is larger than ${DETECT_MAX_FILE_BYTES} bytes\n`);
    return EXIT_USER_ERROR;
  }
  const parsed = parseSeriesCsv(text);
  if (parsed.status !== "ok") {
    io.stderr(`novasre detect: ${file}: ${parsed.error}\n`);
    return EXIT_USER_ERROR;
  }
  const { t, v, warnings } = parsed.value;
  for (const w of warnings) io.stderr(`novasre detect: warning: ${file}: ${w}\n`);

  const detector = createDetector(name, { labelThreshold: threshold });
  const anomalies: DetectionResult[] = [];
  let maxScore = 0;
  for (let i = 0; i < t.length; i++) {
    const r = detector.update(t[i] as number, v[i] as number);
    if (r.score > maxScore) maxScore = r.score;
    if (r.anomaly) anomalies.push(r);
  }

  if (options.json === true) {
    io.stdout(
      `${JSON.stringify({
        file,
        detector: name,
        threshold,
        points: t.length,
        warnings,
        maxScore,
        anomalies: anomalies.map((a) => ({
          timestamp: new Date(a.t).toISOString(),
          t: a.t,
          value: a.value,
          score: a.score,
          expected: a.expected,
          fired: a.fired,
          explanation: a.explanation,
        })),
      })}\n`,
    );
    return EXIT_OK;
  }
  const lines = [
    `${file}: ${t.length} points, ${anomalies.length} anomalies (detector ${name}, threshold ${threshold})`,
  ];
  if (t.length < 2) lines.push("only one point: nothing to compare it with, so nothing can be anomalous yet");
  for (const a of anomalies) {
    lines.push(
      `${new Date(a.t).toISOString()}  value ${a.value}  score ${a.score.toFixed(3)}  ${a.explanation}`,
    );
  }
  io.stdout(`${lines.join("\n")}\n`);
  return EXIT_OK;
}

/** Adds `detect FILE.csv [--detector NAME] [--json] [--threshold S]` to the novasre CLI. */
export function registerDetectCommand(program: Command): Command {
  return program
    .command("detect")
    .description("score a timestamp,value CSV for anomalies offline and explain each one")
    .argument("<file>", "CSV with a timestamp column (ISO 8601 or epoch seconds/ms) and a value column")
    .option("--detector <name>", `detector to use: ${DETECTOR_NAMES.join(", ")}`, "ensemble")
    .option(
      "--threshold <score>",
      "label threshold in [0, 1] (default: the detector's NAB-calibrated threshold)",
    )
    .option("--json", "print one JSON object instead of text")
    .addHelpText("after", `\n${detectorHelp()}\n`)
    .action(async (file: string, opts: DetectCommandOptions) => {
      const code = await runDetect(file, opts);
      if (code !== 0) throw new CliExit(code);
    });
}
