import { AppError } from '../../errors';

export const LOGO_MAX_BYTES = 100 * 1024;

// The type is read from the bytes, never from the name or the browser's word: an HTML file named
// logo.png is not an image, and would become a data: URL the portal shows.
const SIGNATURES: Array<{ type: string; test: (b: Buffer) => boolean }> = [
  { type: 'image/png', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/webp', test: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
];

export type ReadLogoUploadOptions = { bytes: Buffer };

// A PNG, JPEG or WebP of at most 100 KB as the data: URL the branding schema accepts.
export function readLogoUpload({ bytes }: ReadLogoUploadOptions): string {
  if (bytes.length > LOGO_MAX_BYTES)
    throw new AppError('BAD_REQUEST', 'The logo is larger than 100 KB.', { problems: ['logo: larger than 100 KB'] });
  const kind = SIGNATURES.find((s) => s.test(bytes));
  if (!kind)
    throw new AppError('BAD_REQUEST', 'The logo must be a PNG, JPEG or WebP image.', { problems: ['logo: not a PNG, JPEG or WebP image'] });
  return `data:${kind.type};base64,${bytes.toString('base64')}`;
}
