// RulesWatcher watching a real file: a change, a replace by rename (as
// editors save), and an invalid version are each seen through fs.watch and
// debounced on a real reactor; every wait is bounded and ends on the event.

import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { NodeReactor } from 'torsion/reactor';
import { type Rules, type RulesError, RulesWatcher } from 'torsion/web';
import { waitFor } from '../../helpers/sockets.js';

/** A promise of the first value passed to the callback it returns (later ones are ignored). */
function next<T>(): { promise: Promise<T>; callback: (value: T) => void } {
  let callback: (value: T) => void = () => undefined;
  const promise = new Promise<T>((resolve) => {
    callback = resolve;
  });
  return { promise, callback };
}

describe('RulesWatcher watching a file', () => {
  test('reloads on a change, on a replace by rename, and keeps the rules when the file turns bad', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'torsion-rules-watch-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'proxy.rules');
    writeFileSync(path, 'block a.com\n');
    const reactor = new NodeReactor();
    let change = next<Rules>();
    let error = next<RulesError>();
    const watcher = new RulesWatcher(path, {
      clock: reactor,
      debounce: 0.05,
      onChange: (r) => change.callback(r),
      onError: (e) => error.callback(e),
    });
    t.after(() => watcher.stop());
    const blocked = (host: string) => watcher.rules.match({ host, port: 80, path: '/' }).blocked;
    assert.equal(blocked('a.com'), true);

    // An edit in place.
    writeFileSync(path, 'block b.com\n');
    let rules = await waitFor(change.promise, 'the reload after an edit');
    assert.equal(rules, watcher.rules);
    assert.equal(blocked('b.com'), true);
    assert.equal(blocked('a.com'), false);

    // An editor's save: another file written, then renamed over the rules.
    change = next<Rules>();
    const temp = join(dir, '.proxy.rules.swp');
    writeFileSync(temp, 'block c.com\n');
    renameSync(temp, path);
    rules = await waitFor(change.promise, 'the reload after a rename');
    assert.equal(blocked('c.com'), true);

    // A bad version: the rules in force stay.
    writeFileSync(path, 'blok d.com\n');
    const e = await waitFor(error.promise, 'the report of the bad version');
    assert.deepEqual(e.problems, [{ line: 1, reason: 'unknown action "blok"' }]);
    assert.equal(watcher.rules, rules);
    assert.equal(blocked('c.com'), true);

    // Fixed again.
    change = next<Rules>();
    error = next<RulesError>();
    writeFileSync(path, 'block e.com\n');
    await waitFor(change.promise, 'the reload after the fix');
    assert.equal(blocked('e.com'), true);
    watcher.stop();
    assert.deepEqual(reactor.getDelayedCalls(), [], 'no reload left waiting');
  });
});
