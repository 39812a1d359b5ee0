/**
 * Sparkplug B topics (spec §4.1): `spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]`
 * and the host's `spBv1.0/STATE/<host_id>`. Nothing else builds them. Pure.
 */
export const NAMESPACE = 'spBv1.0';

export type NodeMessage = 'NBIRTH' | 'NDEATH' | 'NDATA' | 'NCMD';
export type DeviceMessage = 'DBIRTH' | 'DDEATH' | 'DDATA' | 'DCMD';

export type ParsedTopic = { kind: 'STATE'; host: string } | { kind: NodeMessage; node: string } | { kind: DeviceMessage; node: string; device: string };

export class SparkplugTopics {
  constructor(
    readonly group: string,
    readonly edgeNode: string,
  ) {}

  node(type: NodeMessage): string {
    return `${NAMESPACE}/${this.group}/${type}/${this.edgeNode}`;
  }

  device(type: DeviceMessage, device: string): string {
    return `${NAMESPACE}/${this.group}/${type}/${this.edgeNode}/${device}`;
  }

  /** Every DCMD to this node's devices. */
  get allDeviceCommands(): string {
    return `${NAMESPACE}/${this.group}/DCMD/${this.edgeNode}/+`;
  }

  static state(host: string): string {
    return `${NAMESPACE}/STATE/${host}`;
  }

  /** What a topic is, or undefined when it is not a Sparkplug topic of this group. */
  parse(topic: string): ParsedTopic | undefined {
    const p = topic.split('/');
    if (p[0] !== NAMESPACE) return undefined;
    if (p[1] === 'STATE' && p.length === 3) return { kind: 'STATE', host: p[2] as string };
    if (p[1] !== this.group) return undefined;
    const type = p[2];
    const node = p[3];
    if (node === undefined) return undefined;
    if ((type === 'NBIRTH' || type === 'NDEATH' || type === 'NDATA' || type === 'NCMD') && p.length === 4) return { kind: type, node };
    if ((type === 'DBIRTH' || type === 'DDEATH' || type === 'DDATA' || type === 'DCMD') && p.length === 5) return { kind: type, node, device: p[4] as string };
    return undefined;
  }
}
