// Minimal types for the parts of johnny-five 2 and firmata-io 2 we use (neither ships
// types). Board options are literal `false` on purpose: a Board with the REPL or the
// SIGINT handler on can end the process through process.reallyExit() (docs/field-notes.md#johnny-five-exits-past-our-handlers;
// rwaldron/johnny-five #642, #1393), so the compiler refuses one.

declare module 'johnny-five' {
  import type { EventEmitter } from 'node:events';

  export interface BoardOptions {
    io: EventEmitter;
    repl: false;
    sigint: false;
    debug: false;
    id?: string;
  }

  export class Board extends EventEmitter {
    constructor(options: BoardOptions);
    isReady: boolean;
    timer: ReturnType<typeof setTimeout> | null;
    /** Only defined when IS_TEST_MODE was set before johnny-five was loaded. */
    static purge?: () => void;
  }

  export interface ThermometerOptions {
    controller: string;
    pin: string | number;
    board: Board;
    freq?: number;
    aref?: number;
    /** false: no interval timer; read `celsius` when you like. */
    enabled?: boolean;
  }

  export class Thermometer extends EventEmitter {
    constructor(options: ThermometerOptions);
    readonly celsius: number;
    disable(): this;
  }
}

declare module 'firmata-io' {
  import type { EventEmitter } from 'node:events';

  export class Firmata extends EventEmitter {
    constructor(transport: EventEmitter, options?: { samplingInterval?: number; reportVersionTimeout?: number });
  }

  const bindTransport: { Firmata: typeof Firmata };
  export default bindTransport;
}
