import 'server-only';
import { AppError } from '../errors';
import { cancelBody } from './read-body-rest';

// Where a streamed body stands after its first field: the reader, the bytes read past the field's
// `&` that belong to the next one, and how many bytes have been read in all.
export type TBodyCursor = { reader: ReadableStreamDefaultReader<Uint8Array>; head: Uint8Array; bytesRead: number };

export type ReadLeadingFieldOptions = { request: Request; name: string; maxBytes: number };

const AMPERSAND = 0x26;

// The first field of an urlencoded body, read without reading the rest: a large form (an envelope)
// is then read only once this small field (a token) has been checked. The form must start with
// `name`; a first field longer than maxBytes is refused without reading further.
export async function readLeadingField({
  request,
  name,
  maxBytes,
}: ReadLeadingFieldOptions): Promise<{ value: string; cursor: TBodyCursor }> {
  if (!request.body) throw new AppError('BAD_REQUEST', 'The form is empty.');
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let length = 0;
  let cursor: TBodyCursor | null = null;
  while (!cursor) {
    const { done, value } = await reader.read();
    if (done) {
      cursor = { reader, head: new Uint8Array(0), bytesRead: length };
      break;
    }
    const at = value.indexOf(AMPERSAND);
    const fieldBytes = at >= 0 ? at : value.byteLength;
    if (length + fieldBytes > maxBytes) {
      cancelBody({ reader });
      throw new AppError('BAD_REQUEST', 'The form cannot be read.');
    }
    parts.push(value.subarray(0, fieldBytes));
    length += fieldBytes;
    if (at >= 0) cursor = { reader, head: value.subarray(at + 1), bytesRead: length + value.byteLength - fieldBytes };
  }
  const fields = [...new URLSearchParams(Buffer.concat(parts, length).toString('utf8'))];
  if (fields.length !== 1 || fields[0]![0] !== name) {
    cancelBody(cursor);
    throw new AppError('BAD_REQUEST', 'The form cannot be read.');
  }
  return { value: fields[0]![1], cursor };
}
