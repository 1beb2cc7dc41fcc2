// Base64 for a MIME body, 76 characters to a line (RFC 2045 §6.8), from pieces of any length.
//
// Written here rather than taken from nodemailer's encoder because of what a 45 MB wrapper's
// message.html costs as it streams (twice per wrapper: the DKIM hash, then the SMTP session).
// nodemailer's encoder makes three copies of each piece on the way (the base64 text, that text
// joined to the last line as bytes, then wrapped), and its pieces end mid-line, so the DKIM
// canonicaliser joins each to its predecessor's tail: a fourth. Here a piece of N bytes becomes
// one buffer of its lines, each line whole (ending in CRLF, but for the very last), and only a
// line split between two pieces (at most 56 bytes) is carried.
const LINE_BYTES = 57; // 76 characters of base64
const LINE = 78; // with its CRLF

// A piece given as latin1 text (the envelope's base64url) is read through one reused buffer, not
// made into bytes of its own first.
export async function* base64Lines(pieces: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<Buffer> {
  let carry = Buffer.alloc(0);
  let scratch = Buffer.alloc(0);
  // Lines are handed out one buffer behind, so that the last can lose its CRLF.
  let held: Buffer | null = null;
  for await (const given of pieces) {
    let piece: Buffer;
    if (typeof given === 'string') {
      if (scratch.length < given.length) scratch = Buffer.allocUnsafe(given.length);
      piece = scratch.subarray(0, scratch.write(given, 0, 'latin1'));
    } else piece = given;
    let at = 0;
    const lines: Buffer[] = [];
    if (carry.length) {
      at = Math.min(LINE_BYTES - carry.length, piece.length);
      carry = Buffer.concat([carry, piece.subarray(0, at)]);
      if (carry.length < LINE_BYTES) continue;
      lines.push(encodeLines(carry, 0, LINE_BYTES));
      carry = Buffer.alloc(0);
    }
    const whole = at + Math.floor((piece.length - at) / LINE_BYTES) * LINE_BYTES;
    if (whole > at) lines.push(encodeLines(piece, at, whole));
    if (whole < piece.length) carry = Buffer.from(piece.subarray(whole));
    for (const l of lines) {
      if (held) yield held;
      held = l;
    }
  }
  // The last line ends without CRLF, as nodemailer's encoder ends it (the MIME boundary that
  // follows begins with one).
  if (carry.length) {
    if (held) yield held;
    yield Buffer.from(carry.toString('base64'), 'latin1');
  } else if (held) yield held.subarray(0, held.length - 2);
}

// Whole lines of bytes [from, to) of a piece (to - from a multiple of 57), into one new buffer.
function encodeLines(piece: Buffer, from: number, to: number): Buffer {
  const count = (to - from) / LINE_BYTES;
  const text = piece.toString('base64', from, to);
  const out = Buffer.allocUnsafe(count * LINE);
  for (let i = 0; i < count; i++) {
    out.write(text.slice(i * 76, i * 76 + 76), i * LINE, 76, 'latin1');
    out[i * LINE + 76] = 0x0d;
    out[i * LINE + 77] = 0x0a;
  }
  return out;
}
