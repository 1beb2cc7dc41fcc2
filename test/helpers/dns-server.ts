import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { TDnsZone } from './dns-records';

export type TDnsServer = { port: number; queries: string[]; close(): Promise<void> };

const TYPE_TXT = 16;

// The question's name, and where the question section ends.
function readQuestion(msg: Buffer): { name: string; type: number; end: number } | null {
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length) {
    const len = msg[at]!;
    if (len === 0) break;
    if (len > 63) return null;
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('latin1'));
    at += 1 + len;
  }
  if (at + 5 > msg.length) return null;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(at + 1), end: at + 5 };
}

// A DNS server on loopback (UDP) that answers TXT questions from the zone, "no data" for another
// type of a name it has, and NXDOMAIN for every other name: what SpamAssassin needs for DKIM and
// SPF, and nothing reaches the network. Written here: no DNS server library is a dependency, and
// the wire format of one question and its TXT answers (RFC 1035 §4) is this small.
export async function startDnsServer(zone: TDnsZone): Promise<TDnsServer> {
  const socket = dgram.createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const q = readQuestion(msg);
    if (!q) return;
    queries.push(`${q.name}/${q.type}`);
    const values = zone.get(q.name);
    const answers =
      values && q.type === TYPE_TXT
        ? values.map((value) => {
            const strings = (value.match(/.{1,255}/g) ?? ['']).map((s) => Buffer.concat([Buffer.of(Buffer.byteLength(s)), Buffer.from(s)]));
            const rdata = Buffer.concat(strings);
            const rr = Buffer.alloc(12);
            rr.writeUInt16BE(0xc00c, 0); // the question's name
            rr.writeUInt16BE(TYPE_TXT, 2);
            rr.writeUInt16BE(1, 4); // IN
            rr.writeUInt32BE(300, 6);
            rr.writeUInt16BE(rdata.length, 10);
            return Buffer.concat([rr, rdata]);
          })
        : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    // QR, the query's opcode and RD, AA, RA; NXDOMAIN for a name the zone does not have.
    header.writeUInt16BE(0x8000 | (msg.readUInt16BE(2) & 0x7900) | 0x0400 | 0x0080 | (values ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, msg.subarray(12, q.end), ...answers]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: (socket.address() as AddressInfo).port,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
