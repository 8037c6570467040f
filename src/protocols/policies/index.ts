// torsion/protocols/policies: wrappers that sit between a transport and a
// protocol to count, throttle, limit, time out or log its connections, and
// TimeoutMixin (Twisted: twisted.protocols.policies). One module per policy;
// this file only re-exports them.
// Tests: test/unit/protocols/policies-*.test.ts, test/integration/policies.test.ts

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
