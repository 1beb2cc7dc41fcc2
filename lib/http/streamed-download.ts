import 'server-only';

export type StreamedDownloadOptions = { chunks: AsyncIterable<string>; contentType: string; filename: string };

// A download written as it is read: the stream pulls the next chunk only when the client has
// taken the last (back-pressure), and a client that goes away stops the reading.
export function streamedDownload({ chunks, contentType, filename }: StreamedDownloadOptions): Response {
  const iterator = chunks[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 1 },
  );
  return new Response(body, {
    headers: {
      'content-type': contentType,
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
    },
  });
}
