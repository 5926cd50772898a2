type Srv = { url: string };
/** Response bodies are checked field by field in tests, so they stay loosely typed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** fetch against a test server; `json` is sent as a JSON body; the answer's JSON (or null) and text come back. */
export async function call(srv: Srv, pathAndQuery: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers.set('content-type', 'application/json');
  }
  const r = await fetch(`${srv.url}${pathAndQuery}`, { ...init, headers, body });
  const text = await r.text();
  let json: Json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // left null: the assertion on it says what came instead
  }
  return { status: r.status, headers: r.headers, json, text };
}
