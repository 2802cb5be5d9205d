// When a long-running command (`payflow controller`) should stop: on SIGINT (Ctrl-C), SIGTERM
// (kill, systemd, docker stop) and SIGHUP (its terminal closed), and, when npm started it
// (`npx payflow ...`, `npm run ...`), when the process npm started it through exits.
// Why the last: npm runs a bin as `sh -c 'payflow ...'` and passes a SIGTERM it gets on to
// that shell only; the shell dies of it without passing it on, and the controller, now an
// orphan, would keep running and holding its ports. An orphan's parent pid changes (to init
// or a subreaper), so watching it tells. Outside npm the parent is not watched, so that
// `payflow controller &` in a script that then exits keeps running, as a daemon should.

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const PARENT_POLL_MS = 250;

/** True when npm (npx, npm exec, npm run) started this process. */
export function startedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['npm_lifecycle_event'] !== undefined || env['npm_command'] !== undefined;
}

/**
 * Calls `stop` once, with the signal's name or "parent exited", at the first request to stop.
 * A second signal after that ends the process at once (the default action). Returns a
 * function that removes the handlers.
 */
export function onStopRequest(stop: (reason: string) => void, options: { watchParent?: boolean } = {}): () => void {
  let done = false;
  const handlers = new Map<string, () => void>();
  const fire = (reason: string): void => {
    if (done) return;
    done = true;
    remove();
    stop(reason);
  };
  for (const signal of SIGNALS) {
    const h = (): void => fire(signal);
    handlers.set(signal, h);
    process.once(signal, h);
  }
  let timer: NodeJS.Timeout | undefined;
  if (options.watchParent ?? startedByNpm()) {
    const parent = process.ppid;
    timer = setInterval(() => {
      if (process.ppid !== parent) fire('parent exited');
    }, PARENT_POLL_MS);
    timer.unref();
  }
  function remove(): void {
    for (const [signal, h] of handlers) process.off(signal, h);
    handlers.clear();
    if (timer) clearInterval(timer);
  }
  return remove;
}
