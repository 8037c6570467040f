// The deterministic simulated network of torsion/testing: hosts, links,
// faults, virtual time, traces and replay.
// Tests: test/unit/testing/simulation-core.test.ts, test/unit/testing/simulation-udp.test.ts

export { SimulatedDelayedCall } from './_events.js';
export {
  SimulatedConnector,
  SimulatedHost,
  type SimulatedHostOptions,
  SimulatedPort,
} from './host.js';
export {
  type FaultSpec,
  type HostRef,
  type HostSet,
  type LinkOptions,
  type RandomFaultOptions,
  SimulatedNetwork,
  type SimulatedNetworkOptions,
  type SimulationRunOptions,
  type SimulationStats,
  SimulationTimeout,
  type TraceEvent,
} from './network.js';
export { SeededRandom } from './random.js';
export { simulationSeed, withSimulation } from './seed.js';
export { SimulatedConnection, SimulatedTransport } from './transport.js';
export { SimulatedUDPPort } from './udp.js';
