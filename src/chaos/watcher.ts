/** What the engine needs to know of an incident the platform opened. Structurally a subset of incidents' Incident. */
export interface WatchedIncident {
  id: string;
  title: string;
  severity: string;
  status: string;
  detectedAt: number;
  createdAt: number;
  mitigatedAt: number | null;
  resolvedAt: number | null;
}

/** The platform watching the system under test: the engine polls it to time detection and recovery. */
export interface PlatformWatcher {
  /** Incidents created at or after `since` (ms). */
  incidentsSince(since: number): Promise<WatchedIncident[]>;
  /** Open incidents of these severities (pre-flight refuses to start during a P0/P1). */
  openIncidents(severities: readonly string[]): Promise<WatchedIncident[]>;
}

const OPEN = ["triggered", "acknowledged", "mitigated"];
/** Incidents read per poll. */
const WATCH_PAGE = 100;

/** Adapts anything with IncidentService.list's shape (the in-process platform). */
export function incidentListWatcher(svc: {
  list(filter: {
    since?: number;
    status?: never[];
    severity?: never[];
    limit: number;
  }): Promise<WatchedIncident[]>;
}): PlatformWatcher {
  return {
    incidentsSince: (since) => svc.list({ since, limit: WATCH_PAGE }),
    openIncidents: (severities) =>
      svc.list({ status: OPEN as never[], severity: severities as never[], limit: WATCH_PAGE }),
  };
}

/** Polls a running `novasre serve` over its REST API. */
export function httpWatcher(baseUrl: string, token: string | undefined): PlatformWatcher {
  const get = async (q: URLSearchParams): Promise<WatchedIncident[]> => {
    const res = await fetch(`${baseUrl.replace(/\/$/, "")}/api/v1/incidents?${q.toString()}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new Error(`platform answered ${res.status}`);
    return ((await res.json()) as { incidents: WatchedIncident[] }).incidents;
  };
  return {
    incidentsSince: (since) =>
      get(new URLSearchParams({ limit: String(WATCH_PAGE), since: new Date(since).toISOString() })),
    openIncidents: (severities) =>
      get(
        new URLSearchParams({
          limit: String(WATCH_PAGE),
          status: OPEN.join(","),
          severity: severities.join(","),
        }),
      ),
  };
}
