/**
 * Where channels remember vendor references across sends (e.g. the Jira issue key created for an
 * incident, needed to transition it on resolve). The host backs it with the database.
 */
export interface RefStore {
  get(channel: string, incidentKey: string): Promise<string | undefined>;
  set(channel: string, incidentKey: string, ref: string): Promise<void>;
}

export class InMemoryRefStore implements RefStore {
  private refs = new Map<string, string>();
  get(channel: string, incidentKey: string): Promise<string | undefined> {
    return Promise.resolve(this.refs.get(`${channel}\u0000${incidentKey}`));
  }
  set(channel: string, incidentKey: string, ref: string): Promise<void> {
    this.refs.set(`${channel}\u0000${incidentKey}`, ref);
    return Promise.resolve();
  }
}
