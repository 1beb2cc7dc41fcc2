let counter = 0;

// A client address no earlier call in this test file used, so per-address limits start empty.
// 198.18.0.0/15 is set aside for tests (RFC 2544) and clashes with no fixed address a test uses.
export function newIp(): string {
  counter += 1;
  return `198.18.${Math.floor(counter / 250) % 256}.${(counter % 250) + 1}`;
}
