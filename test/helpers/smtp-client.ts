import net from 'node:net';
import tls from 'node:tls';

export type TSmtpReply = { code: number; text: string };

// A raw SMTP client: one command at a time, every reply read whole, STARTTLS on the same
// socket. Only what a test needs to say things a well-behaved client library never would.
export class RawSmtp {
  private socket: net.Socket | tls.TLSSocket;
  private buffer = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<{ client: RawSmtp; greeting: TSmtpReply }> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawSmtp(socket);
    return { client, greeting: await client.reply() };
  }

  private attach(socket: net.Socket | tls.TLSSocket) {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  async reply(timeoutMs = 30_000): Promise<TSmtpReply> {
    const started = Date.now();
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*(\d{3}) ([^\n]*)\r?\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        return { code: Number(m[1]), text: m[0] };
      }
      if (this.closed) return { code: 0, text: 'closed' };
      if (Date.now() - started > timeoutMs) throw new Error(`no SMTP reply; buffer: ${this.buffer.slice(0, 200)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async command(line: string): Promise<TSmtpReply> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve) => (this.socket.write(data) ? resolve() : this.socket.once('drain', resolve)));
  }

  async startTls(): Promise<TSmtpReply> {
    const r = await this.command('STARTTLS');
    if (r.code !== 220) return r;
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket as net.Socket, rejectUnauthorized: false, minVersion: 'TLSv1.2' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.attach(secure);
    return r;
  }

  async authPlain(username: string, password: string): Promise<TSmtpReply> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${username}\0${password}`).toString('base64')}`);
  }

  close() {
    this.socket.destroy();
  }
}
