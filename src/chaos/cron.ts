/** A 5-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC. */
export interface Cron {
  source: string;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Vixie cron: when both day fields are restricted, a day matches if EITHER matches. */
  domStar: boolean;
  dowStar: boolean;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};
/** Search horizon for the next match: beyond it an expression (e.g. Feb 30) never fires. */
const MAX_SEARCH_YEARS = 5;

function field(text: string, lo: number, hi: number, names: string[] | undefined, what: string): Set<number> {
  const out = new Set<number>();
  const val = (s: string): number => {
    const i = names ? names.indexOf(s.toLowerCase()) : -1;
    const n = i >= 0 ? i + (names === MONTHS ? 1 : 0) : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isInteger(n)) throw new Error(`${what}: ${JSON.stringify(s)} is not a number`);
    return n;
  };
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`${what}: bad step in ${JSON.stringify(part)}`);
    let a: number;
    let b: number;
    if (range === "*") [a, b] = [lo, hi];
    else if (range?.includes("-")) {
      const [x, y] = range.split("-");
      [a, b] = [val(x ?? ""), val(y ?? "")];
    } else {
      a = val(range ?? "");
      b = stepText === undefined ? a : hi;
    }
    if (a < lo || b > hi || a > b) throw new Error(`${what}: ${JSON.stringify(part)} is outside ${lo}-${hi}`);
    for (let v = a; v <= b; v += step) out.add(v);
  }
  return out;
}

/** Parses a cron expression; throws an Error naming the bad field. */
export function parseCron(source: string): Cron {
  const expr = MACROS[source.trim()] ?? source.trim();
  const f = expr.split(/\s+/);
  if (f.length !== 5) throw new Error(`cron needs 5 fields (minute hour day month weekday), got ${f.length}`);
  const [mi, h, dom, mon, dow] = f as [string, string, string, string, string];
  const weekdays = field(dow, 0, 7, DAYS, "day-of-week");
  // 7 is Sunday too.
  if (weekdays.delete(7)) weekdays.add(0);
  return {
    source,
    minutes: field(mi, 0, 59, undefined, "minute"),
    hours: field(h, 0, 23, undefined, "hour"),
    days: field(dom, 1, 31, undefined, "day-of-month"),
    months: field(mon, 1, 12, MONTHS, "month"),
    weekdays,
    domStar: dom === "*" || dom.startsWith("*/"),
    dowStar: dow === "*" || dow.startsWith("*/"),
  };
}

function dayMatches(c: Cron, d: Date): boolean {
  const dom = c.days.has(d.getUTCDate());
  const dow = c.weekdays.has(d.getUTCDay());
  if (c.domStar && c.dowStar) return true;
  if (c.domStar) return dow;
  if (c.dowStar) return dom;
  return dom || dow;
}

/** The first minute strictly after `after` (ms) that matches; undefined if none within the horizon. */
export function nextRun(c: Cron, after: number): number | undefined {
  const d = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  const end = after + MAX_SEARCH_YEARS * 366 * 86_400_000;
  while (d.getTime() <= end) {
    if (!c.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(c, d)) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!c.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!c.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return d.getTime();
  }
  return undefined;
}
