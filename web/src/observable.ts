// Observable: the change notification the app's stores share (ChatClient, BoardClient). Views
// subscribe; a store calls changed() after each change, and many changes in one task render once.
export class Observable {
  private readonly listeners = new Set<() => void>();
  private notifyQueued = false;

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected changed() {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const l of this.listeners) l();
    });
  }
}
