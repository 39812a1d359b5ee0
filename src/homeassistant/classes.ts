/**
 * Home Assistant sensor metadata from a point's unit (and, where a unit is ambiguous,
 * its name). Pure. Units are written as integrators write them in configs ("degC", "V",
 * "kWh", "ug/m3") and mapped to the spelling Home Assistant expects.
 */
export interface SensorClass {
  unit?: string;
  device_class?: string;
  state_class?: 'measurement' | 'total_increasing';
}

const UNITS: Record<string, SensorClass> = {
  degc: { unit: '°C', device_class: 'temperature' },
  '°c': { unit: '°C', device_class: 'temperature' },
  c: { unit: '°C', device_class: 'temperature' },
  degf: { unit: '°F', device_class: 'temperature' },
  v: { unit: 'V', device_class: 'voltage' },
  mv: { unit: 'mV', device_class: 'voltage' },
  a: { unit: 'A', device_class: 'current' },
  ma: { unit: 'mA', device_class: 'current' },
  w: { unit: 'W', device_class: 'power' },
  kw: { unit: 'kW', device_class: 'power' },
  va: { unit: 'VA', device_class: 'apparent_power' },
  var: { unit: 'var', device_class: 'reactive_power' },
  wh: { unit: 'Wh', device_class: 'energy', state_class: 'total_increasing' },
  kwh: { unit: 'kWh', device_class: 'energy', state_class: 'total_increasing' },
  mwh: { unit: 'MWh', device_class: 'energy', state_class: 'total_increasing' },
  hz: { unit: 'Hz', device_class: 'frequency' },
  pa: { unit: 'Pa', device_class: 'pressure' },
  hpa: { unit: 'hPa', device_class: 'pressure' },
  kpa: { unit: 'kPa', device_class: 'pressure' },
  bar: { unit: 'bar', device_class: 'pressure' },
  lx: { unit: 'lx', device_class: 'illuminance' },
  'ug/m3': { unit: 'µg/m³', device_class: 'pm25' },
  'µg/m³': { unit: 'µg/m³', device_class: 'pm25' },
  ppm: { unit: 'ppm', device_class: 'carbon_dioxide' },
  mm: { unit: 'mm', device_class: 'precipitation' },
  'mm/h': { unit: 'mm/h', device_class: 'precipitation_intensity' },
  'm/s': { unit: 'm/s', device_class: 'wind_speed' },
  'km/h': { unit: 'km/h', device_class: 'wind_speed' },
  'm3/h': { unit: 'm³/h', device_class: 'volume_flow_rate' },
  m3: { unit: 'm³', device_class: 'volume', state_class: 'total_increasing' },
  db: { unit: 'dB', device_class: 'sound_pressure' },
  dba: { unit: 'dBA', device_class: 'sound_pressure' },
  s: { unit: 's', device_class: 'duration' },
  h: { unit: 'h', device_class: 'duration' },
};

export function sensorClass(point: string, unit: string | undefined): SensorClass {
  if (unit === undefined) return {};
  const key = unit.trim().toLowerCase();
  const base = UNITS[key];
  if (key === '%') {
    if (/humid|rh/i.test(point)) return { unit: '%', device_class: 'humidity', state_class: 'measurement' };
    if (/batt/i.test(point)) return { unit: '%', device_class: 'battery', state_class: 'measurement' };
    return { unit: '%', state_class: 'measurement' };
  }
  if (base?.device_class === 'pm25' && /pm10/i.test(point)) return { ...base, device_class: 'pm10', state_class: 'measurement' };
  if (base?.device_class === 'pm25' && /pm1(?!0)|pm1_0/i.test(point)) return { ...base, device_class: 'pm1', state_class: 'measurement' };
  if (base) return { state_class: 'measurement', ...base };
  return { unit, state_class: 'measurement' };
}
