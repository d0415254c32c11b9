/** What one rule concluded at one evaluation. */
export interface RuleVerdict {
  rule: string;
  firing: boolean;
  /** Names what moved and by how much (firing), or that it is back (not firing). */
  message: string;
  details: Record<string, unknown>;
}

export interface AlertState {
  rule: string;
  state: 'firing' | 'resolved';
  /** When the rule entered this state. */
  since: string;
  message: string;
  details: Record<string, unknown>;
}

/**
 * The state of every rule that has ever fired: a verdict that changes a rule's state is a
 * transition (returned, to be logged, recorded and sent); one that keeps it only refreshes the
 * message of a firing alert.
 */
export class AlertBook {
  private readonly states = new Map<string, AlertState>();

  constructor(initial: readonly AlertState[] = []) {
    for (const state of initial) this.states.set(state.rule, state);
  }

  apply(verdicts: readonly RuleVerdict[], now: Date): AlertState[] {
    const transitions: AlertState[] = [];
    for (const verdict of verdicts) {
      const previous = this.states.get(verdict.rule);
      const wasFiring = previous?.state === 'firing';
      if (verdict.firing === wasFiring) {
        if (wasFiring && previous !== undefined) this.states.set(verdict.rule, { ...previous, message: verdict.message, details: verdict.details });
        continue;
      }
      if (!verdict.firing && previous === undefined) continue;
      const next: AlertState = {
        rule: verdict.rule,
        state: verdict.firing ? 'firing' : 'resolved',
        since: now.toISOString(),
        message: verdict.message,
        details: verdict.details,
      };
      this.states.set(verdict.rule, next);
      transitions.push(next);
    }
    return transitions;
  }

  /** Firing alerts first, then the resolved ones, newest first within each. */
  list(): AlertState[] {
    return [...this.states.values()].sort((a, b) => (a.state === b.state ? b.since.localeCompare(a.since) : a.state === 'firing' ? -1 : 1));
  }
}
