/**
 * Services for Torsion applications, in the model of Twisted's
 * `twisted.application.service` and `twisted.application.internet`: a
 * {@link Service} starts and stops with its parent, a {@link MultiService}
 * holds children (started in order, stopped in reverse, waited for), and
 * ready-made services listen on an endpoint, keep a client connection up
 * or call a function on a timer,
 * and {@link runApp} runs a service tree as a program (logging, signals, a
 * graceful stop, worker processes).
 *
 * @example
 * ```ts
 * import { MultiService, Service } from 'torsion/app';
 *
 * const top = new MultiService();
 * const child = new Service();
 * child.name = 'child';
 * child.setServiceParent(top);
 * top.startService(); // starts the child too
 * await top.stopService(); // stops it, and waits for it
 * ```
 *
 * @module torsion/app
 * @primaryExport
 */
// Tests: test/unit/app/service.test.ts, test/unit/app/timer-service.test.ts,
// test/unit/app/endpoint-service.test.ts, test/unit/app/run-app.test.ts,
// test/integration/app/run-app.test.ts

export { type IDrainable, isDrainable } from './drain.js';
export {
  type BackoffPolicyOptions,
  backoffPolicy,
  ClientService,
  type ClientServiceOptions,
  type RetryPolicy,
  type WhenConnectedOptions,
} from './client-service.js';
export {
  StreamServerEndpointService,
  type StreamServerEndpointServiceOptions,
} from './endpoint-service.js';
export { MultiService } from './multi-service.js';
export { type AppReactor, type RunAppOptions, runApp, type ServiceMaker } from './run-app.js';
export { type IService, type IServiceCollection, Service, type ServiceResult } from './service.js';
export { service } from './strports.js';
export { TimerService } from './timer-service.js';
