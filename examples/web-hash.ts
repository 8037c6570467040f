// Blocking code kept off the reactor: /hash?path=FILE hashes a file and
// /sleep?seconds=N sleeps, both synchronously, on worker threads
// (examples/web-hash-jobs.ts), while /ping keeps answering at once. Run by
// runApp: logging, SIGINT/SIGTERM and a graceful stop come with it.
//
// Run it: npm run build && node dist/examples/web-hash.js [endpoint]
//         (default tcp:8080:interface=127.0.0.1)
// Try it: curl 'localhost:8080/sleep?seconds=3' & curl localhost:8080/ping

import { type AppReactor, runApp, StreamServerEndpointService } from 'torsion/app';
import { serverFromString } from 'torsion/endpoints';
import { NOT_DONE_YET, type Request, Resource, Site } from 'torsion/web';
import { WorkerPool } from 'torsion/workers';

const jobs = new URL('./web-hash-jobs.js', import.meta.url);

/** Runs one job on the pool per request and answers with its result. */
class Job extends Resource {
  override isLeaf = true;
  constructor(
    private readonly pool: WorkerPool,
    private readonly job: 'sha256File' | 'sleep',
    private readonly argument: (request: Request) => string | number | undefined,
  ) {
    super();
  }

  render_GET(request: Request): typeof NOT_DONE_YET | string {
    const argument = this.argument(request);
    if (argument === undefined) {
      request.setResponseCode(400);
      return 'missing argument\n';
    }
    const result = this.pool.run<string | number>(jobs, this.job, [argument]);
    result.addCallbacks(
      (value) => {
        request.write(`${value}\n`);
        request.finish();
      },
      (failure) => {
        request.setResponseCode(500);
        request.write(`${failure.getErrorMessage()}\n`);
        request.finish();
      },
    );
    // A client that leaves cancels its job (a running one ends its thread).
    request.notifyFinish().addErrback(() => result.cancel());
    return NOT_DONE_YET;
  }
}

class Ping extends Resource {
  override isLeaf = true;
  render_GET(): string {
    return 'pong\n';
  }
}

/** The site: /hash, /sleep and /ping. */
export function makeService(reactor: AppReactor, endpoint: string): StreamServerEndpointService {
  const pool = new WorkerPool(reactor, { size: 2 });
  const root = new Resource();
  root.putChild('hash', new Job(pool, 'sha256File', (r) => r.args.get('path')?.[0]));
  root.putChild('sleep', new Job(pool, 'sleep', (r) => Number(r.args.get('seconds')?.[0] ?? 1)));
  root.putChild('ping', new Ping());
  const site = new Site(root, { clock: reactor });
  return new StreamServerEndpointService(serverFromString(reactor, endpoint), site);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const endpoint = process.argv[2] ?? 'tcp:8080:interface=127.0.0.1';
  await runApp((reactor) => makeService(reactor, endpoint));
}
