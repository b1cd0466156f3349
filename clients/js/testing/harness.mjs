// Test harness: a real Redis, a real router process and a small HTTP
// service that answers the router's callbacks, all on free loopback ports.
// Kept outside test/ so that `node --test test/` does not run it as a test.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Polls `fn` until it returns a truthy value or `ms` pass. */
export async function waitFor(fn, ms = 5000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

/** A temporary directory removed by cleanup(). */
export function tempDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wsrouter-js-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The router binary: $WSROUTER_BIN, else built with `go build` into `dir`.
 */
export function routerBinary(dir) {
  if (process.env.WSROUTER_BIN) return path.resolve(process.env.WSROUTER_BIN);
  const bin = path.join(dir, 'wsrouter');
  const res = spawnSync('go', ['build', '-o', bin, './cmd/wsrouter'], { cwd: repoRoot, encoding: 'utf8', timeout: 300000 });
  if (res.status !== 0) throw new Error(`go build ./cmd/wsrouter failed: ${res.error ?? ''}${res.stderr}`);
  return bin;
}

/** Sends one Redis command over RESP and returns the raw reply line. */
export async function redisCommand(addr, ...args) {
  const [host, port] = addr.split(':');
  const sock = net.connect(Number(port), host);
  sock.setTimeout(5000, () => sock.destroy(new Error('redis: timeout')));
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  sock.write(out);
  let buf = '';
  for await (const chunk of sock) {
    buf += chunk;
    if (buf.includes('\r\n')) break;
  }
  sock.destroy();
  return buf.split('\r\n')[0];
}

/** PUBLISHes a message (an object, encoded as JSON) and returns the receiver count. */
export async function publish(addr, channel, message) {
  const line = await redisCommand(addr, 'PUBLISH', channel, JSON.stringify(message));
  if (!line.startsWith(':')) throw new Error(`redis: PUBLISH answered ${line}`);
  return Number(line.slice(1));
}

/**
 * Starts redis-server on a free port when it is installed. Otherwise the
 * router is told to start its embedded Redis on that port.
 */
export async function startRedis() {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const found = spawnSync('redis-server', ['--version']).status === 0;
  if (!found) {
    return { addr, url: `embedded://${addr}`, real: false, stop: async () => {} };
  }
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitFor(async () => (await redisCommand(addr, 'PING').catch(() => '')) === '+PONG', 10000, 'redis-server');
  return {
    addr,
    url: `redis://${addr}/0`,
    real: true,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGKILL');
        await once(proc, 'exit');
      }
    },
  };
}

/**
 * Starts the HTTP service the router calls back. `routes` maps a path to a
 * function (body) => answer object. Every call is recorded in `calls`.
 */
export async function startService(routes) {
  const calls = [];
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body = null;
    try {
      body = JSON.parse(raw);
    } catch {
      // recorded as null
    }
    calls.push({ path: req.url, body });
    const route = routes[req.url];
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"status":"error","error":"Not found."}');
      return;
    }
    const answer = await route(body);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    calls,
    stop: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

/**
 * A router process. `config` is the YAML of the services and authentication
 * sections; listen, metrics, redis and logging are filled in.
 */
export class Router {
  constructor({ bin, dir, redisURL, servicesYAML }) {
    this.bin = bin;
    this.configPath = path.join(dir, `router-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
    this.redisURL = redisURL;
    this.servicesYAML = servicesYAML;
    this.proc = null;
    this.log = '';
  }

  /** Starts the router (on the same ports when restarted) and waits until ready. */
  async start() {
    if (!this.port) {
      this.port = await freePort();
      this.metricsPort = await freePort();
      writeFileSync(
        this.configPath,
        [
          `listen: 127.0.0.1:${this.port}`,
          `allowed_origins: ["*"]`,
          `redis: {url: "${this.redisURL}", ping_interval: 1s, ping_timeout: 1s}`,
          `http: {timeout: 2s, tries: 1, wait: 100ms}`,
          `metrics: {listen: "127.0.0.1:${this.metricsPort}"}`,
          `log: {level: warn, format: text}`,
          `shutdown_timeout: 5s`,
          this.servicesYAML,
        ].join('\n'),
      );
    }
    this.proc = spawn(this.bin, ['-config', this.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(this.proc, 'exit');
    this.proc.stdout.on('data', (d) => (this.log += d));
    this.proc.stderr.on('data', (d) => (this.log += d));
    this.exited = exited;
    await waitFor(
      async () => {
        if (this.proc.exitCode !== null) throw new Error(`router exited ${this.proc.exitCode}:\n${this.log}`);
        return (await httpStatus(`http://127.0.0.1:${this.metricsPort}/readyz`)) === 200;
      },
      15000,
      'router /readyz',
    );
  }

  /** WebSocket URL of the router. */
  get url() {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** Stops the router with SIGTERM and waits for it to exit. */
  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the process: a dead peer without a close. */
  freeze(on) {
    this.proc.kill(on ? 'SIGSTOP' : 'SIGCONT');
  }
}

function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

