// A CRL is at most this large; a distribution point that sends more is not answering.
export const MAX_CRL_BYTES = 4 * 1024 * 1024;

export type FetchCrlOptions = { url: string; timeoutMs: number };

// A CRL from its distribution point, or null when it cannot be had in time: bounded in time (the
// whole exchange) and in size (counted as it streams), no redirects followed.
export async function fetchCrl({ url, timeoutMs }: FetchCrlOptions): Promise<Uint8Array | null> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { signal, redirect: 'error' });
    if (!response.ok || !response.body) return null;
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > MAX_CRL_BYTES) return null;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += chunk.length;
      if (size > MAX_CRL_BYTES) return null;
      chunks.push(chunk);
    }
    return new Uint8Array(Buffer.concat(chunks));
  } catch {
    return null;
  }
}
