/** The browser side of our JSON error shape `{"error":{"code","message"}}`, shared by every page's API client. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The response's JSON (null for none, e.g. 204); an ApiError naming the server's code when it is not ok. */
export async function readApiResponse<T>(res: Response): Promise<T> {
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    // not JSON (or empty): handled below
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'HTTP', err?.message ?? `the server answered ${res.status}`);
  }
  return data as T;
}
