/**
 * What the pipeline needs to know about one point, whatever its driver: the keys the
 * config's point schema accepts (src/core/primitives.ts validates them and its
 * output type must stay assignable to this one; a compile-time check there says so).
 */
export interface PointSettings {
  name: string;
  unit?: string | undefined;
  scale?: number | undefined;
  offset?: number | undefined;
  deadband?: number | undefined;
  max_silence?: number | undefined;
  valid_range?: [number, number] | undefined;
  precision?: number | undefined;
}
