// torsion/protocols/policies: wrappers that sit between a transport and a
// protocol to count, throttle, limit, time out or log its connections, and
// TimeoutMixin (Twisted: twisted.protocols.policies). One module per policy;
// this file only re-exports them.
// Tests: test/unit/protocols/policies-*.test.ts, test/integration/policies.test.ts

/**
 * Policies: factories that wrap another factory, putting a protocol between
 * each connection's transport and its real protocol, to limit connections
 * (in total or per peer), throttle bandwidth, close idle connections or log
 * traffic. `TimeoutMixin` gives a protocol of your own an idle timeout.
 *
 * Wrap the factory you listen with; the protocol inside does not change.
 * Twisted: `twisted.protocols.policies`.
 *
 * @example
 * ```ts
 * import { Factory, Protocol } from 'torsion/protocol';
 * import { LimitTotalConnectionsFactory, TimeoutFactory } from 'torsion/protocols/policies';
 * import { reactor } from 'torsion/reactor';
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Buffer): void {
 *     this.transport?.write(data);
 *   }
 * }
 * // Closes connections idle for 5 minutes, and accepts 100 at most at once.
 * const idle = new TimeoutFactory(Factory.forProtocol(Echo), { timeoutPeriod: 300, clock: reactor });
 * reactor.listenTCP(8000, new LimitTotalConnectionsFactory(idle, { connectionLimit: 100 }));
 * ```
 *
 * @module torsion/protocols/policies
 * @primaryExport
 */

export {
  type FaultDirection,
  FaultInjectingFactory,
  FaultInjectingProtocol,
  type FaultPlan,
  type FaultRange,
  FaultSpecError,
  formatFaultSpec,
  type InjectedFault,
  parseFaultSpec,
} from './faults.js';
export {
  LimitConnectionsByPeer,
  type LimitConnectionsByPeerOptions,
  LimitTotalConnectionsFactory,
  type LimitTotalConnectionsFactoryOptions,
} from './limits.js';
export {
  SpewingFactory,
  SpewingProtocol,
  type TrafficLogFile,
  TrafficLoggingFactory,
  type TrafficLoggingFactoryOptions,
  TrafficLoggingProtocol,
} from './logging.js';
export {
  ThrottlingFactory,
  type ThrottlingFactoryOptions,
  ThrottlingProtocol,
} from './throttling.js';
export {
  TimeoutFactory,
  type TimeoutFactoryOptions,
  TimeoutMixin,
  type TimeoutMixinOptions,
  type TimeoutOwner,
  TimeoutProtocol,
} from './timeout.js';
export {
  ProtocolWrapper,
  type ProtocolWrapperFactory,
  type ProtocolWrapperRegistry,
  type WrappedFactory,
  WrappingFactory,
} from './wrapper.js';
