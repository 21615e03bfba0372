// The OwnTracks configuration a pickup hands over: the `.otrc` file and the one-tap
// `owntracks:///config?inline=…` link, with the keys and types the apps read (REFERENCE-apps.md:
// `mode` a number, `port` a number, `tls` a boolean; iOS also `clientpkcs` and `passphrase`).
import { bundleFileNames } from './rules.js';

export interface BrokerAddress {
  host: string;
  port: number;
}

export interface OwnTracksConfiguration {
  _type: 'configuration';
  mode: 0;
  host: string;
  port: number;
  tls: true;
  username: string;
  deviceId?: string;
  clientpkcs?: string;
  passphrase?: string;
}

/**
 * Where to connect and as whom. `deviceId` only when a device is named: without one each app picks
 * a default of its own, where a shared "phone" would make two devices knock each other off.
 * `secrets`: for iOS, the `.otrp` file name and its passphrase, so that nothing is typed.
 */
export function owntracksConfiguration(
  broker: BrokerAddress,
  who: { username: string; device: string | null },
  secrets?: { passphrase: string },
): OwnTracksConfiguration {
  return {
    _type: 'configuration',
    mode: 0,
    host: broker.host,
    port: broker.port,
    tls: true,
    username: who.username, // the certificate's CN: Mosquitto takes the CN as the username
    ...(who.device && { deviceId: who.device }),
    ...(secrets && { clientpkcs: bundleFileNames(who.username, who.device).otrp, passphrase: secrets.passphrase }),
  };
}

/**
 * The one-tap link: three slashes (empty host, path /config), standard padded base64 (iOS decodes
 * nothing else), percent-encoded (Android's URLDecoder turns `+` into a space).
 */
export function inlineConfigLink(configuration: OwnTracksConfiguration): string {
  const base64 = Buffer.from(JSON.stringify(configuration), 'utf8').toString('base64');
  return `owntracks:///config?inline=${encodeURIComponent(base64)}`;
}
