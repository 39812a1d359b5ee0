/**
 * A Sparkplug B host application for tests, built on Eclipse Tahu's codec
 * (`sparkplug-payload`) like the edge node, but sharing none of its code: it subscribes to
 * `spBv1.0/<group>/#`, keeps the view a host keeps (node born or dead, bdSeq, the seq it
 * expects next, devices born, aliases), and checks the Sparkplug 3.0 normative statements
 * an edge node must meet on every message it receives, each by its tck-id
 * (docs/sparkplug.md lists them). A statement broken is a `violation`; `checked` counts how
 * often each statement was put to the test, so a test can prove it was exercised.
 * It also plays the Primary Host: STATE (retained, with its will), NCMD rebirth, DCMD writes.
 */
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { get } from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';

const spb = get('spBv1.0')!;

export interface HostMessage {
  topic: string;
  type: string;
  node: string;
  device?: string;
  qos: number;
  retain: boolean;
  payload: UPayload;
  /** Host view at receipt: the node's current bdSeq (after an NBIRTH: its own). */
  bdSeq?: number;
}

interface NodeView {
  born: boolean;
  bdSeq?: number;
  nextSeq?: number;
  devices: Set<string>;
  /** The host lost its connection since the node's last NBIRTH: its view is unknown until the next one. */
  unknown?: boolean;
  /** alias → metric name (node and device metrics; unique across the node). */
  aliases: Map<number, string>;
  deviceAliases: Map<string, Set<number>>;
}

export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return undefined;
}

export class SparkplugHost {
  readonly messages: HostMessage[] = [];
  readonly violations: string[] = [];
  readonly checked = new Map<string, number>();
  readonly nodes = new Map<string, NodeView>();
  /** Messages of nodes whose view was unknown (after the host's own reconnect), not checked. */
  skipped = 0;
  /** The host's own reconnects. */
  reconnects = 0;
  private constructor(
    readonly client: MqttClient,
    readonly group: string,
    readonly hostId: string,
    /** The STATE timestamp of this host session: its will's, as Sparkplug 3.0 wants for every STATE it publishes. */
    readonly stateTs: number,
  ) {}

  /** Connects, subscribes to the group; with `state`, publishes its STATE (retained) and a will saying offline. */
  static async connect(url: string, group: string, hostId = 'test-host', state?: boolean): Promise<SparkplugHost> {
    const stateTs = Date.now();
    const will = { topic: `spBv1.0/STATE/${hostId}`, payload: Buffer.from(JSON.stringify({ online: false, timestamp: stateTs })), qos: 1 as const, retain: true };
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `${hostId}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`, reconnectPeriod: 200, clean: true, ...(state !== undefined ? { will } : {}) });
    const host = new SparkplugHost(client, group, hostId, stateTs);
    client.on('message', (topic, payload, packet) => host.receive(topic, payload, packet));
    // A host that was away missed messages: as a real one, it forgets its view and asks every
    // node it knew for a rebirth (NCMD); until that NBIRTH, the node's messages are not judged.
    client.on('connect', () => {
      host.reconnects++;
      for (const [node, v] of host.nodes) {
        v.unknown = true;
        v.born = false;
        void host.rebirth(node).catch(() => undefined);
      }
    });
    await client.subscribeAsync(`spBv1.0/${group}/#`, { qos: 1 });
    if (state !== undefined) await host.setState(state);
    return host;
  }

  async setState(online: boolean): Promise<void> {
    await this.client.publishAsync(`spBv1.0/STATE/${this.hostId}`, JSON.stringify({ online, timestamp: this.stateTs }), { qos: 1, retain: true });
  }

  async rebirth(node: string): Promise<void> {
    const payload = spb.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] });
    await this.client.publishAsync(`spBv1.0/${this.group}/NCMD/${node}`, Buffer.from(payload), { qos: 0 });
  }

  /** A DCMD writing metrics (by name; the alias of the DBIRTH is added when known). */
  async write(node: string, device: string, metrics: { name: string; type: UMetric['type']; value: UMetric['value'] }[]): Promise<void> {
    const view = this.nodes.get(node);
    const withAlias = metrics.map((m) => {
      const alias = view ? [...view.aliases].find(([, n]) => n === `${device}/${m.name}`)?.[0] : undefined;
      return alias === undefined ? m : { alias, type: m.type, value: m.value };
    });
    await this.client.publishAsync(`spBv1.0/${this.group}/DCMD/${node}/${device}`, Buffer.from(spb.encodePayload({ timestamp: Date.now(), metrics: withAlias })), { qos: 0 });
  }

  async ncmd(node: string, metrics: UMetric[]): Promise<void> {
    await this.client.publishAsync(`spBv1.0/${this.group}/NCMD/${node}`, Buffer.from(spb.encodePayload({ timestamp: Date.now(), metrics })), { qos: 0 });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  /** Messages of a type (and node), in arrival order. */
  of(type: string, node?: string): HostMessage[] {
    return this.messages.filter((m) => m.type === type && (node === undefined || m.node === node));
  }

  /** The String values of a node metric (citygate/event, citygate/command_reply) in NDATA, parsed. */
  nodeTexts(node: string, metric: string): unknown[] {
    const view = this.nodes.get(node);
    const out: unknown[] = [];
    for (const m of this.of('NDATA', node)) {
      for (const x of m.payload.metrics ?? []) {
        const name = x.name ?? view?.aliases.get(num(x.alias) ?? -1);
        if (name === metric && typeof x.value === 'string') out.push(JSON.parse(x.value));
      }
    }
    return out;
  }

  /** Every DDATA metric of a device with its point name, value, citygate seq and historical flag. */
  readings(node: string, device: string): { point: string; value: unknown; seq: number; historical: boolean; ts: number }[] {
    const view = this.nodes.get(node);
    const out: { point: string; value: unknown; seq: number; historical: boolean; ts: number }[] = [];
    for (const m of this.messages) {
      if (m.type !== 'DDATA' || m.node !== node || m.device !== device) continue;
      for (const x of m.payload.metrics ?? []) {
        const name = view?.aliases.get(num(x.alias) ?? -1) ?? '?';
        out.push({ point: name.slice(device.length + 1), value: x.value, seq: num(x.properties?.['citygate/seq']?.value) ?? -1, historical: x.isHistorical === true, ts: num(x.timestamp) ?? 0 });
      }
    }
    return out;
  }

  /** `id`: a TCK statement id (without `tck-id-`), or `citygate-…` for citygate's own promises. */
  private check(id: string, ok: boolean, what: string): void {
    this.checked.set(id, (this.checked.get(id) ?? 0) + 1);
    if (!ok) this.violations.push(`[${id.startsWith('citygate-') ? id : `tck-id-${id}`}] ${what}`);
  }

  private view(node: string): NodeView {
    let v = this.nodes.get(node);
    if (!v) this.nodes.set(node, (v = { born: false, devices: new Set(), aliases: new Map(), deviceAliases: new Map() }));
    return v;
  }

  private receive(topic: string, raw: Buffer, packet: IPublishPacket): void {
    const p = topic.split('/');
    if (p[1] !== this.group) return;
    const type = p[2] as string;
    const node = p[3] as string;
    const device = p[4];
    if (type === 'NCMD' || type === 'DCMD') return; // our own commands
    let payload: UPayload;
    try {
      payload = spb.decodePayload(raw);
    } catch (err) {
      this.violations.push(`[citygate-decodes] ${topic}: not a Sparkplug B payload: ${(err as Error).message}`);
      return;
    }
    const v = this.view(node);
    if (v.unknown && type !== 'NBIRTH') {
      this.skipped++;
      return;
    }
    v.unknown = false;
    const seq = num(payload.seq);
    const metrics = (payload.metrics ?? []) as UMetric[];
    const where = `${type} ${node}${device ? `/${device}` : ''}`;
    if (type === 'NBIRTH') {
      // QoS: citygate sends every seq-carrying message at QoS 1 (a documented deviation from
      // QoS 0, docs/sparkplug.md); the host checks it is one QoS for all, and never retained.
      this.check('topics-nbirth-mqtt', !packet.retain, `${where}: retained: NBIRTH must not be`);
      this.check('citygate-one-qos', packet.qos === 1, `${where}: QoS ${packet.qos}: citygate sends every seq-carrying message at QoS 1`);
      this.check('payloads-nbirth-seq', seq === 0, `${where}: seq ${seq}, must be 0`);
      this.check('topics-nbirth-timestamp', num(payload.timestamp) !== undefined, `${where}: no timestamp`);
      const bd = metrics.find((m) => m.name === 'bdSeq');
      this.check('payloads-nbirth-bdseq', bd !== undefined && num(bd.value) !== undefined, `${where}: no bdSeq metric`);
      const rb = metrics.find((m) => m.name === 'Node Control/Rebirth');
      this.check('topics-nbirth-rebirth-metric', rb !== undefined && rb.type === 'Boolean' && rb.value === false, `${where}: Node Control/Rebirth must be there, Boolean, false`);
      this.birthMetrics(where, metrics, v, undefined);
      v.born = true;
      v.bdSeq = num(bd?.value);
      v.nextSeq = 1;
      v.devices.clear();
    } else if (type === 'NDEATH') {
      this.check('payloads-ndeath-seq', payload.seq === undefined || payload.seq === null, `${where}: carries seq ${seq}`);
      this.check('topics-ndeath-payload', metrics.length === 1 && metrics[0]?.name === 'bdSeq', `${where}: must hold the bdSeq metric only`);
      this.check('payloads-ndeath-will-message-qos', packet.qos === 1 && !packet.retain, `${where}: QoS ${packet.qos}, retain ${packet.retain}: NDEATH must be QoS 1, not retained`);
      const bd = num(metrics[0]?.value);
      // A host applies an NDEATH only when its bdSeq matches the current NBIRTH's; a stale one (an
      // older session's will) is ignored. Both are recorded; `deaths()` tells them apart.
      if (bd === v.bdSeq) {
        v.born = false;
        v.devices.clear();
      }
      this.messages.push({ topic, type, node, qos: packet.qos, retain: packet.retain, payload, ...(bd !== undefined ? { bdSeq: bd } : {}) });
      return;
    } else {
      this.check('principles-birth-certificates-order', v.born, `${where} while the node is not born (no NBIRTH since its death)`);
      this.check('citygate-one-qos', packet.qos === 1, `${where}: QoS ${packet.qos}: citygate sends every seq-carrying message at QoS 1`);
      const expected = v.nextSeq;
      this.check('payloads-sequence-num-incrementing', seq !== undefined && seq === expected, `${where}: seq ${seq}, expected ${expected}`);
      if (seq !== undefined) v.nextSeq = (seq + 1) % 256;
      if (type === 'DBIRTH' && device) {
        this.check('topics-dbirth-mqtt', !packet.retain, `${where}: retained: DBIRTH must not be`);
        this.check('topics-dbirth-timestamp', num(payload.timestamp) !== undefined, `${where}: no timestamp`);
        this.birthMetrics(where, metrics, v, device);
        v.devices.add(device);
      } else if (type === 'DDEATH' && device) {
        this.check('citygate-ddeath-after-dbirth', v.devices.has(device), `${where}: device was not born`);
        v.devices.delete(device);
      } else if (type === 'DDATA' && device) {
        this.check('payloads-dbirth-order', v.devices.has(device), `${where}: DDATA before the device's DBIRTH (or after its DDEATH)`);
        const own = v.deviceAliases.get(device) ?? new Set();
        for (const m of metrics) {
          const alias = num(m.alias);
          this.check('payloads-alias-data-cmd-requirement', alias !== undefined && own.has(alias) && !m.name, `${where}: metric ${m.name ?? alias}: must be an alias of this device's DBIRTH, without name`);
          this.check('citygate-metric-timestamp', num(m.timestamp) !== undefined, `${where}: metric without timestamp`);
          const q = m.properties?.Quality;
          this.check('payloads-propertyset-quality-value-type', q?.type === 'Int32', `${where}: Quality property must be Int32, is ${q?.type}`);
          this.check('payloads-propertyset-quality-value-value', q !== undefined && [0, 192, 500].includes(num(q.value) ?? -1), `${where}: Quality ${String(q?.value)} is not 0, 192 or 500`);
          this.check('citygate-seq-property', num(m.properties?.['citygate/seq']?.value) !== undefined, `${where}: no citygate/seq property`);
        }
      } else if (type === 'NDATA') {
        for (const m of metrics) this.check('payloads-alias-data-cmd-requirement', num(m.alias) !== undefined && v.aliases.has(num(m.alias) as number) && !m.name, `${where}: metric must be a birth alias, without name`);
      }
    }
    this.messages.push({ topic, type, node, ...(device ? { device } : {}), qos: packet.qos, retain: packet.retain, payload, ...(v.bdSeq !== undefined ? { bdSeq: v.bdSeq } : {}) });
  }

  /** Birth metrics: name, datatype, value (or null) each; aliases unique across the node. */
  private birthMetrics(where: string, metrics: UMetric[], v: NodeView, device: string | undefined): void {
    const own = new Set<number>();
    if (device === undefined) v.aliases.clear();
    for (const [alias, name] of [...v.aliases]) if (device !== undefined && name.startsWith(`${device}/`)) v.aliases.delete(alias);
    for (const m of metrics) {
      this.check('topics-nbirth-metrics', typeof m.name === 'string' && m.name !== '' && m.type !== undefined && (m.value !== undefined || m.isNull === true), `${where}: metric ${m.name} lacks name, datatype or value`);
      this.check('payloads-metric-datatype-req', typeof m.type === 'string', `${where}: metric ${m.name} without datatype`);
      const alias = num(m.alias);
      if (alias === undefined) continue;
      this.check('payloads-alias-uniqueness', !v.aliases.has(alias), `${where}: alias ${alias} (${m.name}) already names ${v.aliases.get(alias)}`);
      v.aliases.set(alias, device === undefined ? String(m.name) : `${device}/${m.name}`);
      own.add(alias);
    }
    if (device !== undefined) v.deviceAliases.set(device, own);
  }
}
