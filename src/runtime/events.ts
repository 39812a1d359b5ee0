/**
 * The one way the runtime announces something on `events`: `emit(body)` records the
 * typed event durably (the buffer's event journal: never throws, never evicts a loss
 * announcement) and wakes the uplink to send it. Nothing else builds event objects.
 */
import type { EventBody } from '../uplink/topics.js';

export interface EventSink {
  addEvent(body: EventBody): void;
}

export class GatewayEvents {
  constructor(
    private readonly sink: EventSink,
    private readonly wake: () => void,
  ) {}

  emit(body: EventBody): void {
    this.sink.addEvent(body);
    this.wake();
  }
}
