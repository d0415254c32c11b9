/** What a script can tell from `visionops`'s exit status. */
export const EXIT = {
  ok: 0,
  /** The command ran, but some inputs failed: files in error (`run`, `check`) or refused by the gate (`check`). */
  someFailed: 1,
  /** The command could not run: a usage or configuration error, a store or model that is unavailable. */
  cannotRun: 2,
} as const;
