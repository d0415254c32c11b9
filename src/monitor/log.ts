/** Where the monitor writes its lines (alert transitions, failed background work): the server's log, or nothing. */
export interface MonitorLog {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

export const silentLog: MonitorLog = { info: () => {}, warn: () => {} };
