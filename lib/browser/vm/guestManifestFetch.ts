import type { GuestManifest } from '../../shared/GuestManifest';
import { ApiError, readApiResponse } from '../client/apiResponse';

/**
 * The page could not get the VM's description from `/vm/manifest.json`: the server answered with
 * an error (a non-2xx, with its code when it sent one), with something that is not a manifest (a
 * proxy's error page), or could not be reached (status 0). Shown as the boot's failure, rather
 * than reading an error body as a manifest or failing later on a JSON parse.
 */
export class ManifestError extends ApiError {
  override name = 'ManifestError';
}

const WHAT = 'the VM’s description (/vm/manifest.json) could not be loaded';

/** Fetches a guest manifest (`url`: /vm/manifest.json with its query); rejects with a ManifestError. */
export async function fetchGuestManifest<M extends GuestManifest = GuestManifest>(url: string, fetchFn: typeof fetch = fetch): Promise<M> {
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (e) {
    throw new ManifestError(0, 'NETWORK', `${WHAT}: the server did not answer (${e instanceof Error ? e.message : String(e)})`);
  }
  let m: M | null;
  try {
    m = await readApiResponse<M | null>(res);
  } catch (e) {
    const err = e as ApiError;
    throw new ManifestError(err.status, err.code, `${WHAT}: ${err.message} (HTTP ${err.status})`);
  }
  if (!m || typeof m.version !== 'string' || typeof m.lib !== 'string') throw new ManifestError(res.status, 'BAD_MESSAGE', `${WHAT}: the server’s answer is not a VM description`);
  return m;
}
