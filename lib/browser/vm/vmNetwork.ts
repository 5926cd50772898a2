/**
 * The VM's network card, page side. v86's Wisp backend (`net_device.relay_url = 'wisp(s)://…'`)
 * carries the guest's TCP to the server's `/net/<token>/`; its DNS goes over HTTPS to
 * `https://<doh_server>/dns-query` with the page's global fetch, https hard-coded. We point
 * doh_server at this page's own host and route that one URL to the room's DNS on this origin:
 * see `routeDnsToThisOrigin`.
 */

export interface VmNet {
  relayUrl: string;
  mtu: number;
  /** v86's doh_server: this page's host (the app answers RFC 8484 at /dns-query). */
  dohServer: string;
  internet: { on: boolean; reason: string | null };
  /** The seat's network token (in relayUrl's path): also the CheerpX gateway wrappers' credential. */
  token: string;
}

/** Asks the server for this host's network token; null when it is refused (not the host). */
export async function fetchVmNet(roomId: string, sid: string | undefined, onRefused?: (why: string) => void): Promise<VmNet | null> {
  if (!sid) return null;
  try {
    const r = await fetch(`/api/rooms/${encodeURIComponent(roomId)}/net-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sid }),
    });
    if (!r.ok) return null;
    const j = (await r.json()) as { path: string; mtu: number; internet: VmNet['internet'] };
    routeDnsToThisOrigin(j.path, onRefused);
    const token = /^\/net\/([^/]+)\/$/.exec(j.path)?.[1] ?? '';
    return { relayUrl: `${location.protocol === 'https:' ? 'wisps' : 'wisp'}://${location.host}${j.path}`, mtu: j.mtu, dohServer: location.host, internet: j.internet, token };
  } catch {
    return null;
  }
}

let routed = false;

let netPath = '';
/** Told why the room's DNS refused a query (its Internet is off): the guest only sees "could not resolve". */
let refusedListener: ((why: string) => void) | null = null;

/**
 * v86 builds its DNS URL as `'https://' + doh_server + '/dns-query'` (https hard-coded, so on a
 * plain-http origin it would not even reach us). Exactly that URL, and nothing else, is sent to
 * `<this origin>/net/<token>/dns-query` instead: the room's own DNS, which answers REFUSED while
 * the room's Internet is off (the guest then fails at once with "Could not resolve host").
 * Installed once per page; a new token (a new seat) replaces the path.
 */
export function routeDnsToThisOrigin(path: string, onRefused?: (why: string) => void): void {
  netPath = path;
  refusedListener = onRefused ?? null;
  if (routed) return;
  routed = true;
  const dohUrl = `https://${location.host}/dns-query`;
  const original = window.fetch.bind(window);
  window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url === dohUrl)
      return original(`${location.origin}${netPath}dns-query`, init).then((r) => {
        const why = r.headers.get('x-tandem-refused');
        if (why) refusedListener?.(decodeURIComponent(why));
        return r;
      });
    return original(input, init);
  };
}
