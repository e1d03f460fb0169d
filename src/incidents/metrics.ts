import { Counter, Histogram, type Registry } from "prom-client";
import { incidentTimings, type Incident } from "./model.js";

/** Buckets in seconds from 30 s to 1 day: the range where MTTA and MTTR of real incidents fall. */
const DURATION_BUCKETS_S = [30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400];

export interface IncidentMetrics {
  alertsReceived(source: string, n: number): void;
  opened(inc: Incident): void;
  acknowledged(inc: Incident): void;
  resolved(inc: Incident): void;
}

export function createIncidentMetrics(registry: Registry): IncidentMetrics {
  const received = new Counter({
    name: "alerts_received_total",
    help: "Alerts received, by source",
    labelNames: ["source"],
    registers: [registry],
  });
  const opened = new Counter({
    name: "incidents_opened_total",
    help: "Incidents opened, by severity",
    labelNames: ["severity"],
    registers: [registry],
  });
  const mtta = new Histogram({
    name: "incident_mtta_seconds",
    help: "Time from an incident opening to its acknowledgement, by severity",
    labelNames: ["severity"],
    buckets: DURATION_BUCKETS_S,
    registers: [registry],
  });
  const mttr = new Histogram({
    name: "incident_mttr_seconds",
    help: "Time from an incident's first alert to its resolution, by severity",
    labelNames: ["severity"],
    buckets: DURATION_BUCKETS_S,
    registers: [registry],
  });
  return {
    alertsReceived: (source, n) => received.inc({ source }, n),
    opened: (inc) => opened.inc({ severity: inc.severity }),
    acknowledged: (inc) => {
      const t = incidentTimings(inc).timeToAcknowledge;
      if (t !== null) mtta.observe({ severity: inc.severity }, t);
    },
    resolved: (inc) => {
      const t = incidentTimings(inc).timeToResolve;
      if (t !== null) mttr.observe({ severity: inc.severity }, t);
    },
  };
}
