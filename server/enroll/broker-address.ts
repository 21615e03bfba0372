// The broker's address for people's phones: where the mail and the .otrc tell the app to connect.
// MQTT_HOST (with MQTT_PORT), when set, wins; otherwise the address an owner entered on the
// Settings page, stored in the `settings` table; otherwise none, and issuing still works but the
// mail cannot say where to connect (the issue form and the result page say so).
import { failed, fieldIssues, ok, type Failed, type Invalid, type Ok } from '../outcome.js';
import { by, type Actor, type EnrollDeps } from './context.js';
import { brokerAddressSchema, type BrokerAddressInput } from './rules.js';

const HOST_KEY = 'broker_host';
const PORT_KEY = 'broker_port';

export interface BrokerAddress {
  /** Undefined until an address is known. */
  host: string | undefined;
  port: number;
  /** Where it comes from: MQTT_HOST, the Settings page, or nowhere yet. */
  source: 'environment' | 'settings' | 'none';
}

type AddressDeps = Pick<EnrollDeps, 'config' | 'settings'>;

export function brokerAddress(ctx: AddressDeps): BrokerAddress {
  if (ctx.config.mqtt.host) return { host: ctx.config.mqtt.host, port: ctx.config.mqtt.port, source: 'environment' };
  const host = ctx.settings.get(HOST_KEY);
  if (host) return { host, port: Number(ctx.settings.get(PORT_KEY) ?? ctx.config.mqtt.port), source: 'settings' };
  return { host: undefined, port: ctx.config.mqtt.port, source: 'none' };
}

/**
 * Whether the phones trust the broker's certificate as it is (a public CA, checked from here for
 * today's address): then the setup steps skip installing the portal's CA. Unknown counts as no.
 */
export function phonesTrustBroker(ctx: Pick<EnrollDeps, 'serverTrust'>): boolean {
  return ctx.serverTrust?.current()?.verdict === 'public';
}

export type SetBrokerAddressOutcome =
  | Ok<{ address: BrokerAddress }>
  | Invalid
  | Failed<'set-by-environment', { address: BrokerAddress }>;

/** Stores the address an owner entered, audited; refused while MQTT_HOST decides it. Bad input changes nothing. */
export function setBrokerAddress(
  ctx: AddressDeps & Pick<EnrollDeps, 'audited' | 'now' | 'serverTrust'>,
  input: BrokerAddressInput,
  actor: Actor,
): SetBrokerAddressOutcome {
  const current = brokerAddress(ctx);
  if (current.source === 'environment') return failed('set-by-environment', { address: current });
  const parsed = brokerAddressSchema.safeParse(input);
  if (!parsed.success) return failed('invalid', { issues: fieldIssues(parsed.error.issues) });
  const { host, port } = parsed.data;
  ctx.audited(ctx.now(), (audit) => {
    ctx.settings.put(HOST_KEY, host);
    ctx.settings.put(PORT_KEY, String(port));
    audit({
      ...by(actor),
      action: 'settings-change',
      subject: 'settings:broker-address',
      outcome: 'success',
      detail: `broker address ${current.host ? `${current.host}:${current.port}` : '(none)'} → ${host}:${port}`,
    });
  });
  void ctx.serverTrust?.refresh(); // the new address's certificate decides whether phones need the CA
  return ok({ address: brokerAddress(ctx) });
}
