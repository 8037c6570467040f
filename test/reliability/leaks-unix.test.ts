// Leak cycles over UNIX: every way of ending a connection, thousands of
// times, leaves no file descriptor and no heap behind (see _leaks.ts).

import { describeLeakCycles } from './_leaks.js';

describeLeakCycles('unix');
