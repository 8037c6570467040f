// torsion/testing: test doubles and assertions that need no event loop, no
// sockets and no real time (Twisted: twisted.internet.testing,
// twisted.test.iosim, trial).

/**
 * Test doubles that need no event loop, no socket and no real time:
 * `StringTransport` records what a protocol writes, `MemoryReactor` records
 * what it listens on and connects to, `connectedServerAndClient` and
 * `IOPump` connect two protocols in memory, and `successResultOf`,
 * `failureResultOf` and `assertNoResult` check a Deferred at once.
 *
 * Use them in unit tests with a `Clock` from `torsion/task`. Twisted:
 * `twisted.internet.testing`, `twisted.test.iosim` and trial's
 * `TestCase` assertions.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { Protocol } from 'torsion/protocol';
 * import { StringTransport } from 'torsion/testing';
 *
 * class Greeter extends Protocol {
 *   override connectionMade(): void {
 *     this.transport?.write(Buffer.from('hello\r\n'));
 *   }
 * }
 * const transport = new StringTransport();
 * new Greeter().makeConnection(transport);
 * assert.equal(transport.value().toString(), 'hello\r\n');
 * ```
 *
 * @module torsion/testing
 * @primaryExport
 */

export { loopbackAsync } from '../protocols/loopback.js';
export {
  CHUNK_SIZES,
  deliverInChunks,
  deliverSplit,
  type ForAllChunkingsOptions,
  forAllChunkings,
} from './chunks.js';
export { assertNoResult, failureResultOf, successResultOf } from './deferred-asserts.js';
export {
  type AssertReactorCleanOptions,
  assertReactorClean,
  type CheckableReactor,
  cleanReactor,
  describeDirtyReactor,
} from './dirty-reactor.js';
export {
  FakeDatagramPort,
  FakeDatagramTransport,
  type MemoryDatagram,
  MemoryDatagramNetwork,
  MemoryDatagramTransport,
} from './fake-datagram.js';
export { FakeProcessTransport, type FakeProcessTransportOptions } from './fake-process.js';
export {
  type AdvanceableClock,
  type ConnectableEndpointOptions,
  type ConnectedServerAndClientOptions,
  ConnectionCompleter,
  type ConnectOptions,
  connect,
  connectableEndpoint,
  connectedServerAndClient,
  FakeAddress,
  FakeTransport,
  type FakeTransportOptions,
  IOPump,
  type IOPumpOptions,
  makeFakeClient,
  makeFakeServer,
  type ProtocolSource,
  type PumpOptions,
  type SucceedOnceOptions,
} from './iosim.js';
export {
  FakeConnector,
  type FakeConnectorState,
  FakePort,
  type FakePortKind,
  MemoryReactor,
  MemoryReactorClock,
  type MulticastServerRecord,
  RaisingMemoryReactor,
  type RaisingMemoryReactorOptions,
  type RecordedTrigger,
  type SpawnProcessRecord,
  type SSLClientRecord,
  type SSLServerRecord,
  type TCPClientRecord,
  type TCPServerRecord,
  type UDPServerRecord,
  type UNIXClientRecord,
  type UNIXServerRecord,
} from './memory-reactor.js';
export {
  AccumulatingProtocol,
  type AccumulatingProtocolFactory,
  NonStreamingProducer,
} from './protocols.js';
export {
  type FaultSpec,
  type HostRef,
  type HostSet,
  type LinkOptions,
  type RandomFaultOptions,
  SeededRandom,
  SimulatedConnection,
  SimulatedConnector,
  SimulatedDelayedCall,
  SimulatedHost,
  type SimulatedHostOptions,
  SimulatedNetwork,
  type SimulatedNetworkOptions,
  SimulatedPort,
  SimulatedTransport,
  SimulatedUDPPort,
  type SimulationRunOptions,
  type SimulationStats,
  SimulationTimeout,
  simulationSeed,
  type TraceEvent,
  withSimulation,
} from './simulation/index.js';
export {
  type ProducerState,
  StringTransport,
  type StringTransportOptions,
  StringTransportWithDisconnection,
} from './string-transport.js';
