// An in-memory web for the HTTP client's unit tests: Sites registered by
// host and port, an IAgentEndpointFactory whose endpoints connect an
// agent's protocol to a Site's channel through iosim's fake transports, and
// a flush that moves bytes on every connection until nothing moves. With
// Agent.usingEndpointFactory it runs a real Agent against real Sites without
// a socket. Test-only; not exported.

import { Deferred, fail } from '../../src/internet/defer.js';
import { ConnectionRefusedError } from '../../src/internet/error.js';
import type {
  IProtocol,
  IProtocolFactory,
  IStreamClientEndpoint,
  ProtocolOf,
} from '../../src/internet/interfaces.js';
import {
  connect,
  FakeAddress,
  type IOPump,
  makeFakeClient,
  makeFakeServer,
} from '../../src/testing/iosim.js';
import { MemoryReactorClock } from '../../src/testing/memory-reactor.js';
import { Agent } from '../../src/web/client/agent.js';
import { HTTPConnectionPool } from '../../src/web/client/pool.js';
import type { URI } from '../../src/web/client/uri.js';
import { Resource } from '../../src/web/resource.js';
import { Site } from '../../src/web/site.js';

/** Sites by `host:port`, and the connections made to them. */
export class MemoryWeb {
  readonly reactor = new MemoryReactorClock();
  readonly pumps: IOPump[] = [];
  /** Every connection attempt, as `host:port`. */
  readonly connects: string[] = [];
  readonly #sites = new Map<string, Site>();

  /** Serves `resource` at `host:port`; returns its Site. */
  serve(host: string, port: number, resource: Resource): Site {
    const site = new Site(resource, { clock: this.reactor });
    site.noisy = false;
    this.#sites.set(`${host}:${port}`, site);
    return site;
  }

  /** The endpoint for a URI: connects to the Site there, or fails with ConnectionRefusedError. */
  endpointForURI(uri: URI): IStreamClientEndpoint {
    const key = `${uri.host}:${uri.port}`;
    return {
      connect: <F extends IProtocolFactory>(factory: F): Deferred<ProtocolOf<F>> => {
        this.connects.push(key);
        const site = this.#sites.get(key);
        if (site === undefined) return fail(new ConnectionRefusedError(`nothing at ${key}`));
        const server = site.buildProtocol(new FakeAddress()) as IProtocol;
        const client = factory.buildProtocol(new FakeAddress()) as ProtocolOf<F>;
        const pump = connect(server, makeFakeServer(server), client, makeFakeClient(client), {
          clock: this.reactor,
          greet: false,
        });
        this.pumps.push(pump);
        const d = new Deferred<ProtocolOf<F>>();
        d.callback(client);
        return d;
      },
    };
  }

  /** Moves bytes on every connection, and runs the calls due now, until nothing moves. */
  flush(): void {
    for (let round = 0; round < 1000; round++) {
      let moved = false;
      for (const pump of this.pumps) if (pump.flush()) moved = true;
      this.reactor.advance(0);
      if (!moved) return;
    }
    throw new Error('the in-memory web never settled');
  }

  /** A real Agent whose connections come from this web (a persistent pool if `persistent`). */
  agent(persistent = false): Agent {
    const pool = new HTTPConnectionPool(this.reactor, { persistent });
    return Agent.usingEndpointFactory(this.reactor, this, { pool });
  }
}

/** A leaf resource answering every request with `render`. */
export function leaf(
  render: (request: import('../../src/web/request.js').Request) => string | Uint8Array,
): Resource {
  const resource = new Resource();
  resource.isLeaf = true;
  resource.render = (request) => render(request);
  return resource;
}
