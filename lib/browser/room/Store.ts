/**
 * A tiny external store (subscribe/getSnapshot), the shape React's useSyncExternalStore reads:
 * each change makes a new snapshot object, so a component re-renders only when something changed.
 */
export class Store<S extends object> {
  private snap: S;
  private listeners = new Set<() => void>();

  constructor(initial: S) {
    this.snap = initial;
  }

  readonly getSnapshot = (): S => this.snap;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Merges `patch` into the snapshot; listeners hear of it only when a value changed. */
  set(patch: Partial<S> | ((s: S) => Partial<S>)): void {
    const p = typeof patch === 'function' ? patch(this.snap) : patch;
    if (!Object.entries(p).some(([k, v]) => !Object.is(this.snap[k as keyof S], v))) return;
    this.snap = { ...this.snap, ...p };
    for (const l of [...this.listeners]) l();
  }
}
