/** Who this browser tab is to the server: its per-tab client id and, for the headless host, its host token. */

/** Stable per browser tab (sessionStorage), so a reloading host is recognised and takes its seat back. */
export function clientId(): string {
  const key = 'tandem:client';
  let id = sessionStorage.getItem(key);
  if (!id) sessionStorage.setItem(key, (id = crypto.randomUUID()));
  return id;
}

/** The server's headless host opens rooms with `#host=<signed token>`. */
export function hostTokenFromHash(hash: string = window.location.hash): string | undefined {
  const m = /(?:^#|&)host=([^&]+)/.exec(hash);
  return m ? decodeURIComponent(m[1]) : undefined;
}

/** Query parameters for the room's Yjs connection: the host token lets the headless host in. */
export function yjsParams(): Record<string, string> {
  const host = hostTokenFromHash();
  return host ? { host } : {};
}
