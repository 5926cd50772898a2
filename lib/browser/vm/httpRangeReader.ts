/**
 * The server's disk image read over HTTP Range: every answer is checked (status, Content-Range,
 * length), and a failure says whether it is worth retrying.
 */

/** Reads `length` bytes at `start` of the base image. */
export type RangeReader = (start: number, length: number) => Promise<Uint8Array>;

export class DiskReadError extends Error {
  constructor(
    message: string,
    /** Worth retrying (network error, 5xx); a 4xx or a wrong size is not. */
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** The default RangeReader: fetch with a Range header, checking status, Content-Range and length. */
export function httpRangeReader(url: string, size: number, fetchFn: typeof fetch = fetch): RangeReader {
  return async (start, length) => {
    const end = start + length - 1;
    let r: Response;
    try {
      r = await fetchFn(url, { headers: { range: `bytes=${start}-${end}` }, cache: 'no-store' });
    } catch (e) {
      throw new DiskReadError(`could not read the disk ${url}: ${e instanceof Error ? e.message : String(e)}`, true);
    }
    if (r.status === 416)
      throw new DiskReadError(`the disk ${url} ends before byte ${start} (HTTP 416): it is shorter than the ${size} bytes announced; the image is truncated or was replaced`, false);
    if (r.status !== 206) {
      void r.body?.cancel();
      const what = r.status === 200 ? 'the server ignored the Range header (HTTP 200)' : `HTTP ${r.status}`;
      throw new DiskReadError(`could not read the disk ${url} at ${start}-${end}: ${what}`, r.status >= 500);
    }
    const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(r.headers.get('content-range') ?? '');
    if (!cr || Number(cr[1]) !== start || Number(cr[2]) !== end)
      throw new DiskReadError(`the disk ${url} answered bytes ${cr ? `${cr[1]}-${cr[2]}` : '(no Content-Range)'} for ${start}-${end}`, false);
    if (cr[3] !== '*' && Number(cr[3]) !== size)
      throw new DiskReadError(`the disk ${url} is ${cr[3]} bytes, not the ${size} announced: the image is truncated or was replaced`, false);
    let body: ArrayBuffer;
    try {
      body = await r.arrayBuffer();
    } catch (e) {
      throw new DiskReadError(`reading the disk ${url} broke off: ${e instanceof Error ? e.message : String(e)}`, true);
    }
    if (body.byteLength !== length) throw new DiskReadError(`the disk ${url} sent ${body.byteLength} bytes for ${start}-${end} (expected ${length})`, true);
    return new Uint8Array(body);
  };
}
