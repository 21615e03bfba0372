// MQTT.js, loaded on first use rather than with the portal: a portal without BROKER_CONTROL_URL
// never needs it, and loading it is about 80 ms of every start (its module graph is large).
import type mqttModule from 'mqtt';

type Mqtt = typeof mqttModule;
let loading: Promise<Mqtt> | undefined;

/** MQTT.js's default export; the first call loads the module, later ones get the same promise. */
export function loadMqtt(): Promise<Mqtt> {
  loading ??= import('mqtt').then((module) => module.default);
  return loading;
}
