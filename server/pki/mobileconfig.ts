// An iOS configuration profile (.mobileconfig) that holds only the CA certificate, so that iOS
// installs it as a trusted root candidate (the person then switches on full trust in Certificate
// Trust Settings). Its identifiers are derived from the CA's fingerprint: installing it twice
// replaces the profile instead of adding a second one, and a new CA gets a profile of its own.
import { createHash } from 'node:crypto';

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A UUID (version 5 layout) made from bytes of a hash: stable for the same input. */
function stableUuid(seed: string): string {
  const bytes = createHash('sha256').update(seed).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface CaProfile {
  /** The CA certificate, DER. */
  caDer: Buffer;
  /** The CA's name, shown by iOS as the profile's and the certificate's name. */
  caName: string;
  /** The portal's name, shown as the profile's organisation. */
  organisation: string;
}

/** The profile's PayloadIdentifier: stable for one CA. */
export function caProfileIdentifier(caDer: Buffer): string {
  const fingerprint = createHash('sha256').update(caDer).digest('hex').slice(0, 16);
  return `org.owntracks.enroll.ca.${fingerprint}`;
}

export function caMobileconfig(profile: CaProfile): string {
  const identifier = caProfileIdentifier(profile.caDer);
  const name = escapeXml(profile.caName);
  const base64 = profile.caDer.toString('base64').replace(/(.{64})/g, '$1\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>PayloadCertificateFileName</key>
      <string>ca.crt</string>
      <key>PayloadContent</key>
      <data>
${base64}
      </data>
      <key>PayloadDescription</key>
      <string>Lets this device trust the OwnTracks broker's certificate.</string>
      <key>PayloadDisplayName</key>
      <string>${name}</string>
      <key>PayloadIdentifier</key>
      <string>${identifier}.root</string>
      <key>PayloadType</key>
      <string>com.apple.security.root</string>
      <key>PayloadUUID</key>
      <string>${stableUuid(`${identifier}.root`)}</string>
      <key>PayloadVersion</key>
      <integer>1</integer>
    </dict>
  </array>
  <key>PayloadDisplayName</key>
  <string>${name}</string>
  <key>PayloadIdentifier</key>
  <string>${identifier}</string>
  <key>PayloadOrganization</key>
  <string>${escapeXml(profile.organisation)}</string>
  <key>PayloadRemovalDisallowed</key>
  <false/>
  <key>PayloadType</key>
  <string>Configuration</string>
  <key>PayloadUUID</key>
  <string>${stableUuid(identifier)}</string>
  <key>PayloadVersion</key>
  <integer>1</integer>
</dict>
</plist>
`;
}
