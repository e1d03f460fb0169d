import type { Generated } from "kysely";

/**
 * Table types. Times are integer milliseconds since the epoch on both databases (bigint in PostgreSQL,
 * parsed back to number by the pg type parser set up in database.ts). JSON is stored as text so the
 * same SQL runs on SQLite and PostgreSQL.
 */
export interface Tables {
  api_tokens: {
    id: string;
    name: string;
    role: string;
    token_hash: string;
    created_at: number;
    last_used_at: number | null;
    revoked_at: number | null;
  };
  alerts: {
    fingerprint: string;
    source: string;
    labels: string;
    annotations: string;
    status: string;
    starts_at: number;
    ends_at: number | null;
    generator_url: string | null;
    incident_id: string | null;
    updated_at: number;
    transitions: string;
    flapping: number;
  };
  incidents: {
    id: string;
    key: string;
    group_key: string;
    title: string;
    severity: string;
    status: string;
    services: string;
    labels: string;
    assignee: string | null;
    detected_at: number;
    created_at: number;
    acknowledged_at: number | null;
    mitigated_at: number | null;
    resolved_at: number | null;
    closed_at: number | null;
    last_activity_at: number;
    reopen_count: number;
  };
  incident_alerts: {
    incident_id: string;
    fingerprint: string;
    joined_at: number;
  };
  timeline: {
    id: Generated<number>;
    incident_id: string;
    at: number;
    kind: string;
    actor: string;
    data: string;
  };
  silences: {
    id: string;
    matchers: string;
    starts_at: number;
    ends_at: number;
    created_by: string;
    comment: string;
    created_at: number;
    expired_recorded: number;
  };
  outbox: {
    id: string;
    idempotency_key: string;
    channel: string;
    payload: string;
    status: string;
    attempts: number;
    next_attempt_at: number;
    lease_until: number;
    created_at: number;
    sent_at: number | null;
    last_error: string | null;
    ref: string | null;
  };
  channel_refs: {
    channel: string;
    incident_key: string;
    ref: string;
    updated_at: number;
  };
  settings: {
    key: string;
    value: string;
    updated_at: number;
  };
  runbook_executions: {
    id: string;
    runbook_name: string;
    runbook_hash: string;
    runbook: string;
    base_dir: string | null;
    params: string;
    target: string | null;
    mode: string;
    status: string;
    cursor: number;
    steps_run: number;
    results: string;
    rollback_stack: string;
    in_flight: string | null;
    waiting: string | null;
    plan_hash: string;
    incident_id: string | null;
    incident_labels: string;
    requested_by: string;
    reason: string;
    error: string | null;
    created_at: number;
    updated_at: number;
    finished_at: number | null;
    lease_owner: string | null;
    lease_until: number;
  };
  runbook_audit: {
    id: Generated<number>;
    execution_id: string | null;
    at: number;
    actor: string;
    event: string;
    step_id: string | null;
    attempt: number | null;
    data: string;
  };
  runbook_outcomes: {
    id: Generated<number>;
    signature: string;
    runbook: string;
    incident_id: string;
    execution_id: string;
    success: number;
    at: number;
  };
}
