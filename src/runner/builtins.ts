// The plugins that come with the `torsion` command: a name, a description
// and a loader each, so that listing them loads none
// (Twisted: twisted/plugins/twisted_*.py, the built-in IServiceMakers).
// Tests: test/unit/runner/registry.test.ts

import type { TorsionPlugin } from './plugin.js';

/**
 * A plugin known by name and description before its module is loaded.
 *
 * @since 0.1.0
 */
export interface PluginEntry {
  /** The plugin's name. */
  readonly name: string;
  /** Its one-line description (the loaded plugin's, checked by a test). */
  readonly description: string;
  /** Loads its module and returns the plugin. */
  load(): Promise<TorsionPlugin>;
}

/**
 * The built-in plugins, by name. A new one (the proxy plugins, say) is a
 * module in src/runner/plugins/ and a line here.
 *
 * @since 0.1.0
 */
export const BUILTIN_PLUGINS: readonly PluginEntry[] = [
  {
    name: 'echo',
    description: 'An echo server (RFC 862): writes back what it receives',
    load: async () => (await import('./plugins/echo.js')).echoPlugin,
  },
  {
    name: 'finger',
    description:
      "The finger tutorial's service: users' statuses from a file, over finger and the web",
    load: async () => (await import('./plugins/finger.js')).fingerPlugin,
  },
  {
    name: 'proxy',
    description: 'A filtering web proxy: rules block hosts, images and cookies; a status page',
    load: async () => (await import('./plugins/proxy.js')).proxyPlugin,
  },
  {
    name: 'reverse-proxy',
    description: 'A reverse proxy: requests under a path relayed to one or more upstream servers',
    load: async () => (await import('./plugins/reverse-proxy.js')).reverseProxyPlugin,
  },
  {
    name: 'run',
    description: 'Runs the service a module makes (its makeService export, or its default export)',
    load: async () => (await import('./plugins/run.js')).runPlugin,
  },
  {
    name: 'time',
    description: 'A time server (RFC 868): sends the time as 4 bytes and hangs up',
    load: async () => (await import('./plugins/time.js')).timePlugin,
  },
  {
    name: 'web',
    description: 'A static web server: the files under a directory, over HTTP/1.1',
    load: async () => (await import('./plugins/web.js')).webPlugin,
  },
];
