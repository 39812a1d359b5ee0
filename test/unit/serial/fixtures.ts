/**
 * Recorded and datasheet frames for the serial decoders, written out byte by byte (not
 * built with our encoders), so a decoder and an encoder sharing a mistake cannot agree.
 * Shared with bench/sections/serial.ts.
 */
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** PMS5003 frames captured from a sensor in clean indoor air and in traffic. */
export const PMS5003_FRAMES = [
  {
    bytes: hex('424d 001c 0005 0008 0009 0005 0008 0009 0393 010c 003c 0006 0002 0002 9700 0257'),
    values: {
      pm1_0_cf1: 5, pm2_5_cf1: 8, pm10_cf1: 9, pm1_0: 5, pm2_5: 8, pm10: 9,
      particles_0_3um: 915, particles_0_5um: 268, particles_1_0um: 60, particles_2_5um: 6, particles_5_0um: 2, particles_10um: 2,
    },
  },
  {
    bytes: hex('424d 001c 0023 0035 0041 0019 0028 0037 0fa0 04e1 015e 002b 0008 0003 9700 047c'),
    values: {
      pm1_0_cf1: 35, pm2_5_cf1: 53, pm10_cf1: 65, pm1_0: 25, pm2_5: 40, pm10: 55,
      particles_0_3um: 4000, particles_0_5um: 1249, particles_1_0um: 350, particles_2_5um: 43, particles_5_0um: 8, particles_10um: 3,
    },
  },
];

/** SDS011: the first is the example in the SDS011 control protocol v1.3; the second a clean-air reading. */
export const SDS011_FRAMES = [
  { bytes: hex('aac0 d404 3a0a a160 1dab'), values: { pm2_5: 123.6, pm10: 261.8 } },
  { bytes: hex('aac0 2100 3300 a160 55ab'), values: { pm2_5: 3.3, pm10: 5.1 } },
];
/** Reply to "set data reporting mode" (command 0xC5): a good frame without a measurement. */
export const SDS011_REPLY = hex('aac5 0201 0000 a160 04ab');

/** NMEA sentences: the NMEA 0183 reference examples, and a bus GPS (u-blox) in Changsha. */
export const NMEA_SENTENCES = [
  '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47',
  '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A',
  '$GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00*74',
  '$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1*39',
  '$GPVTG,054.7,T,034.4,M,005.5,N,010.2,K*48',
  '$GPGGA,002153.000,,,,,0,00,,,M,,M,,*7D',
  '$GPRMC,002153.000,V,,,,,,,191125,,,N*47',
  '$GNGGA,093015.00,2812.34567,N,11256.78901,E,2,12,0.78,61.2,M,-15.3,M,,0000*50',
  '$GNRMC,093015.00,A,2812.34567,N,11256.78901,E,12.345,270.50,281126,,,D*48',
];

/** A whole NMEA stream as the receiver sends it (CRLF after each sentence). */
export const NMEA_STREAM = Uint8Array.from(Buffer.from(NMEA_SENTENCES.map((s) => `${s}\r\n`).join(''), 'latin1'));

/** A text sensor printing "T=… RH=…" lines, with a boot banner. */
export const LINES_STREAM = Uint8Array.from(
  Buffer.from('BME280 logger v1.2 ready\r\nT=21.5 RH=40\r\nT=-3.25 RH=97\r\nERR sensor busy\r\nT=22.0 RH=41\r\n', 'latin1'),
);

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

/** Garbage that contains false frame starts for every protocol (0x42 0x4D, 0xAA 0xC0, '$'). */
export const GARBAGE = hex('00ff 424d 0000 13 aac0 0102 24 41 0a 42 aa 7e');
