// Loaded with --import into a `sealpost` child: as it exits it writes its peak RSS (the kernel's
// VmHWM) to stderr, which a process that has already exited can no longer be asked for.
import fs from 'node:fs';

process.on('exit', () => {
  const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
  fs.writeSync(2, `\nSEALPOST_PEAK_RSS_KB=${kb}\n`);
});
