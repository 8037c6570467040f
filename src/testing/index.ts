// torsion/testing: test doubles and assertions that need no event loop, no
// sockets and no real time (Twisted: twisted.internet.testing, trial).

export { assertNoResult, failureResultOf, successResultOf } from './deferred-asserts.js';
