// Child process for the signal tests: runs a NodeReactor with its signal
// handlers and reports the life cycle on stdout. A watchdog ends it after 10 s
// so that a failing test cannot leave it behind.

import { NodeReactor } from 'torsion/reactor';

const reactor = new NodeReactor();
const watchdog = setTimeout(() => process.exit(3), 10_000);
watchdog.unref();
reactor.callWhenRunning(() => process.stdout.write('running\n'));
reactor.addSystemEventTrigger('before', 'shutdown', () => {
  process.stdout.write(`before shutdown, stopped by ${reactor.exitSignal}\n`);
});
await reactor.run();
process.stdout.write('run settled\n');
