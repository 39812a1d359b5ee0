/**
 * The Mosquitto ACL that docs/operations.md ("The broker side: one identity per gateway")
 * documents, as the interop tests write it: gateways publish only under their own root
 * and read only their own cmd/; the `operator` identity sends commands and reads all.
 * Keep it identical to the documented file: these tests are what prove that file.
 */
export function documentedAcl(): string {
  return [
    '# gateways: publish only under their own root, read only their own cmd/',
    'pattern write citygate/%u/#',
    'pattern read citygate/%u/cmd/+',
    '# (only with homeassistant.enabled: its discovery entries)',
    'pattern write homeassistant/sensor/%u/#',
    '',
    '# operators and back ends: send commands, read everything',
    'user operator',
    'topic readwrite citygate/#',
    '',
  ].join('\n');
}
