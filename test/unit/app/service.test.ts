// Service and MultiService (ported from Twisted's
// src/twisted/application/test/test_service.py, plus the stop order and
// failure reporting of MultiService.stopService).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MultiService, Service } from 'torsion/app';
import { Deferred, type Failure } from 'torsion/defer';
import { captureLogs } from 'torsion/logger';
import { assertNoResult, failureResultOf, successResultOf } from 'torsion/testing';

function named(name: string): Service {
  const service = new Service();
  service.name = name;
  return service;
}

/** A service that records its starts and stops in a shared journal. */
class Recording extends Service {
  constructor(
    readonly journal: string[],
    readonly label: string,
    readonly stopResult: () => Deferred<void> | Promise<void> | void = () => undefined,
  ) {
    super();
  }
  override privilegedStartService(): void {
    this.journal.push(`privileged ${this.label}`);
  }
  override startService(): void {
    super.startService();
    this.journal.push(`start ${this.label}`);
  }
  override stopService(): Deferred<void> | Promise<void> | void {
    super.stopService();
    this.journal.push(`stop ${this.label}`);
    return this.stopResult();
  }
}

describe('Service', () => {
  test('has a name, no parent and is not running when made', () => {
    const service = named('hello');
    assert.equal(service.name, 'hello');
    assert.equal(service.parent, null);
    assert.equal(service.running, false);
  });

  test('startService and stopService toggle running', () => {
    const service = new Service();
    service.startService();
    assert.equal(service.running, true);
    service.stopService();
    assert.equal(service.running, false);
  });

  test('setServiceParent makes the parent hold the child', () => {
    const parent = new MultiService();
    const child = new Service();
    child.setServiceParent(parent);
    assert.deepEqual([...parent], [child]);
    assert.equal(child.parent, parent);
  });

  test('setServiceParent leaves the previous parent', () => {
    const first = new MultiService();
    const second = new MultiService();
    const child = named('c');
    child.setServiceParent(first);
    child.setServiceParent(second);
    assert.deepEqual([...first], []);
    assert.throws(() => first.getServiceNamed('c'), /no service named "c"/);
    assert.equal(second.getServiceNamed('c'), child);
    assert.equal(child.parent, second);
  });

  test('disownServiceParent removes the child and clears its parent', () => {
    const parent = new MultiService();
    const child = named('c');
    child.setServiceParent(parent);
    assert.equal(child.disownServiceParent(), undefined);
    assert.deepEqual([...parent], []);
    assert.equal(child.parent, null);
  });

  test("disownServiceParent returns the stop of a running parent's child", () => {
    const parent = new MultiService();
    const stopping = new Deferred<void>();
    const child = new Recording([], 'c', () => stopping);
    child.setServiceParent(parent);
    parent.startService();
    assert.equal(child.disownServiceParent(), stopping);
    assert.equal(child.running, false);
  });

  test('disownServiceParent without a parent throws a clear error', () => {
    assert.throws(() => named('x').disownServiceParent(), /Service "x" has no parent to leave/);
  });

  test('a duplicate name leaves the second service without a parent', () => {
    const parent = new MultiService();
    named('dup').setServiceParent(parent);
    const second = named('dup');
    assert.throws(() => second.setServiceParent(parent), /already has a service named "dup"/);
    assert.equal(second.parent, null);
    assert.equal([...parent].length, 1);
  });
});

describe('MultiService', () => {
  test('getServiceNamed finds a named child', () => {
    const parent = new MultiService();
    const child = named('child');
    child.setServiceParent(parent);
    assert.equal(parent.getServiceNamed('child'), child);
  });

  test('getServiceNamed names the missing name and the known ones', () => {
    const parent = new MultiService();
    named('a').setServiceParent(parent);
    assert.throws(() => parent.getServiceNamed('b'), /no service named "b" \(known: "a"\)/);
  });

  test('two children with the same name are refused', () => {
    const parent = new MultiService();
    parent.addService(named('x'));
    assert.throws(() => parent.addService(named('x')), /names must be unique/);
  });

  test('adding the same child twice is refused', () => {
    const parent = new MultiService();
    const child = new Service();
    parent.addService(child);
    assert.throws(() => parent.addService(child), /already a child/);
  });

  test('removing a stranger throws a clear error', () => {
    assert.throws(() => new MultiService().removeService(new Service()), /is not a child of/);
  });

  test('starting starts the children in order; stopping stops them in reverse', () => {
    const journal: string[] = [];
    const parent = new MultiService();
    for (const label of ['a', 'b', 'c']) new Recording(journal, label).setServiceParent(parent);
    parent.privilegedStartService();
    parent.startService();
    assert.equal(parent.running, true);
    assert.equal(successResultOf(parent.stopService()), undefined);
    assert.equal(parent.running, false);
    assert.deepEqual(journal, [
      'privileged a',
      'privileged b',
      'privileged c',
      'start a',
      'start b',
      'start c',
      'stop c',
      'stop b',
      'stop a',
    ]);
  });

  test('children of nested collections run with the top one', () => {
    const top = new MultiService();
    const middle = new MultiService();
    const leaf = new Service();
    middle.setServiceParent(top);
    leaf.setServiceParent(middle);
    top.startService();
    assert.equal(leaf.running, true);
    successResultOf(top.stopService());
    assert.equal(leaf.running, false);
  });

  test('a child added while running is started at once', () => {
    const journal: string[] = [];
    const parent = new MultiService();
    parent.startService();
    new Recording(journal, 'late').setServiceParent(parent);
    assert.deepEqual(journal, ['privileged late', 'start late']);
  });

  test('a child removed while running is stopped; while stopped it is not', () => {
    const journal: string[] = [];
    const parent = new MultiService();
    const child = new Recording(journal, 'c');
    child.setServiceParent(parent);
    child.disownServiceParent();
    assert.deepEqual(journal, []);
    child.setServiceParent(parent);
    parent.startService();
    parent.removeService(child);
    assert.deepEqual(journal, ['start c', 'stop c']);
    assert.equal(child.running, false);
  });

  test('stopService waits for every child to stop', () => {
    const first = new Deferred<void>();
    const second = new Deferred<void>();
    const parent = new MultiService();
    new Recording([], 'a', () => first).setServiceParent(parent);
    new Recording([], 'b', () => second).setServiceParent(parent);
    parent.startService();
    const stopped = parent.stopService();
    assertNoResult(stopped);
    first.callback(undefined);
    assertNoResult(stopped);
    second.callback(undefined);
    assert.equal(successResultOf(stopped), undefined);
  });

  test('stopService adopts a child whose stop is a promise', async () => {
    const parent = new MultiService();
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    new Recording([], 'p', () => promise).setServiceParent(parent);
    parent.startService();
    const stopped = parent.stopService();
    assertNoResult(stopped);
    resolve();
    await stopped;
  });

  test('a failing stop fails stopService, after the others, and the rest are logged', () => {
    const logs = captureLogs();
    try {
      const journal: string[] = [];
      const pending = new Deferred<void>();
      const parent = new MultiService();
      new Recording(journal, 'a', () => {
        throw new Error('a broke');
      }).setServiceParent(parent);
      new Recording(journal, 'b', () => pending).setServiceParent(parent);
      new Recording(journal, 'c', () => {
        throw new Error('c broke');
      }).setServiceParent(parent);
      parent.startService();
      const stopped = parent.stopService();
      assert.deepEqual(journal.slice(3), ['stop c', 'stop b', 'stop a']);
      assertNoResult(stopped);
      pending.callback(undefined);
      const failure: Failure = failureResultOf(stopped);
      assert.match(String(failure.value), /c broke/);
      const logged = logs.events.filter((e) => e.log_failure !== undefined);
      assert.equal(logged.length, 1);
      const logFailure = logged[0]?.log_failure as Failure | undefined;
      assert.match(String(logFailure?.value), /a broke/);
    } finally {
      logs.stop();
    }
  });

  test('iterating gives the children in the order they were added', () => {
    const parent = new MultiService();
    const children = [named('1'), named('2'), new Service()];
    for (const child of children) parent.addService(child);
    assert.deepEqual([...parent], children);
  });
});
