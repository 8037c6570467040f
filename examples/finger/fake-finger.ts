// A stand-in for the system's `finger` command, for stage 9 of the finger
// tutorial (finger09.ts), since few systems install one now: it prints what
// `finger <user>` would for the users it knows, and for anyone else the
// error `finger` gives, on standard error, with exit status 1.
// Tutorial: docs/tutorial/finger.md
//
// Run it: npm run build && node dist/examples/finger/fake-finger.js moshez

/** The users this stand-in knows: login → [name, plan]. */
export const USERS: ReadonlyMap<string, readonly [string, string]> = new Map([
  ['moshez', ['Moshe Zadka', 'Happy and well']],
  ['shawn', ['Shawn', 'Alive']],
]);

/** What `finger <user>` prints for a known user, or undefined for an unknown one. */
export function fingerText(user: string): string | undefined {
  const entry = USERS.get(user);
  if (entry === undefined) return undefined;
  const [name, plan] = entry;
  return `Login: ${user}\t\t\tName: ${name}\nPlan:\n${plan}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const user = process.argv[2] ?? '';
  const text = fingerText(user);
  if (text === undefined) {
    process.stderr.write(`finger: ${user}: no such user.\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(text);
  }
}
