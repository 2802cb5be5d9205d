// Waking the switch's datapath thread out of poll(2). An idle datapath blocks in poll(2) on its
// ports and on an eventfd(2); the agent writes to the eventfd when it posts a request, so a
// flow-mod or a barrier is handled at once while an idle switch uses no CPU between timers.
// Two words shared between the threads (Atomics, sequentially consistent) keep the agent from
// a write(2) per request: the datapath says "asleep" before it blocks and then looks for
// requests not yet handled; the agent counts its request and then looks for "asleep". Of any
// two such steps in the two threads, one sees the other's, so no request waits for a timeout.
import { closeSync, readSync, writeSync } from 'node:fs';
import { EFD_CLOEXEC, EFD_NONBLOCK, lastError, libc } from './libc.js';

const SLEEPING = 0;
const PENDING = 1;
const WAKE_WORDS = 2;

/** What the datapath thread needs to know to be woken: the eventfd and the shared words. */
export interface WakeChannel {
  fd: number;
  state: SharedArrayBuffer;
}

/** The agent's side. It owns the eventfd: made at start, closed after the datapath has stopped. */
export class DatapathWaker {
  readonly channel: WakeChannel;
  private readonly state: Int32Array;
  private readonly one = new Uint8Array(new BigUint64Array([1n]).buffer);
  private closed = false;

  constructor() {
    const c = libc();
    const fd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) throw new Error(lastError(c, 'eventfd').message);
    const state = new SharedArrayBuffer(4 * WAKE_WORDS);
    this.channel = { fd, state };
    this.state = new Int32Array(state);
  }

  /** Call after posting each request to the datapath. */
  posted(): void {
    Atomics.add(this.state, PENDING, 1);
    if (this.closed || Atomics.load(this.state, SLEEPING) === 0) return;
    try {
      writeSync(this.channel.fd, this.one);
    } catch {
      // EAGAIN: the counter is full, so the eventfd is readable already
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.channel.fd);
  }
}

/** The datapath's side. */
export class WakeListener {
  readonly fd: number;
  private readonly state: Int32Array;
  private readonly drained = new Uint8Array(8);

  constructor(channel: WakeChannel) {
    this.fd = channel.fd;
    this.state = new Int32Array(channel.state);
  }

  /** Call for each request taken from the agent. */
  handled(): void {
    Atomics.sub(this.state, PENDING, 1);
  }

  /** Marks the datapath asleep before it blocks; false (and awake again) when a request already waits. */
  sleep(): boolean {
    Atomics.store(this.state, SLEEPING, 1);
    if (Atomics.load(this.state, PENDING) <= 0) return true;
    Atomics.store(this.state, SLEEPING, 0);
    return false;
  }

  /** Marks the datapath awake after poll(2); `woken`: the eventfd was readable, so it is emptied. */
  awake(woken: boolean): void {
    Atomics.store(this.state, SLEEPING, 0);
    if (!woken) return;
    try {
      readSync(this.fd, this.drained, 0, 8, null);
    } catch {
      // EAGAIN: another read emptied it
    }
  }
}
