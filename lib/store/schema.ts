import type { Generated } from 'kysely';

// Times are integer milliseconds since the epoch on both dialects; booleans are 0/1.
export type TTenantTable = {
  id: string;
  slug: string;
  name: string;
  mail_domain: string;
  custom_domain: string | null;
  created_at: number;
};

export type TBrandingTable = {
  tenant_id: string;
  name: string;
  json: string;
  updated_at: number;
};

export type TTenantKeyTable = {
  tenant_id: string;
  version: number;
  wrapped_key: Buffer;
  master_key_id: string;
  created_at: number;
};

export type TMessageTable = {
  id: string;
  tenant_id: string;
  sender: string;
  key_version: number;
  // Null once destroyed: revocation and expiry shred the content key.
  wrapped_cek: Buffer | null;
  envelope: string | null;
  size_bytes: number;
  template: string;
  // The template's usage restrictions when the message was sent (or its parent's, for a reply):
  // a template changed or deleted later can tighten a message, never loosen it.
  restrictions: 'none' | 'do-not-forward';
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  shredded_at: number | null;
  // A reply's parent message, and the first message of its conversation (null on that one).
  in_reply_to: string | null;
  thread_id: string | null;
  // When the sender was told that a recipient could not be reached (one notice per message).
  bounce_notified_at: number | null;
  // The subject sealed under the tenant key (lib/messages/message-subject.ts); null when the
  // template hides subjects, and once the message is revoked or expired.
  subject_sealed: Buffer | null;
};

export type TRecipientTable = {
  id: string;
  message_id: string;
  address: string;
  // 'copy': the sender of a reply, who asked for a copy of it.
  kind: 'to' | 'cc' | 'bcc' | 'copy';
};

// The stored row also counts wrong passcodes in a row, and when they reached the hard stop
// (null: not blocked); neither is given when a recipient is added.
type TRecipientRowTable = TRecipientTable & { passcode_failures: Generated<number>; passcode_blocked_at: number | null };

export type TApiKeyTable = {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
};

// 'cancelled': a wrapper whose message was revoked or expired before it went out; never sent.
export type TOutboxStatus = 'queued' | 'sent' | 'bounced' | 'failed' | 'cancelled';

export type TOutboxTable = {
  id: string;
  tenant_id: string;
  message_id: string | null;
  // 'passthrough': a relayed message sent on unchanged (its payload is the original bytes).
  // 'smime': a message S/MIME-encrypted to one recipient's certificate (lib/smime), sent instead of a wrapper.
  // 'inbound': mail from outside for the tenant's own domain, sent on to its inbound route's host.
  kind: 'wrapper' | 'passcode' | 'reply' | 'notification' | 'passthrough' | 'smime' | 'inbound';
  priority: number;
  status: TOutboxStatus;
  mail_from: string;
  rcpt_to: string;
  smtp_message_id: string;
  key_version: number;
  // Sealed under the tenant key; cleared once the mail is sent or given up. The built mail, or for a
  // wrapper built at delivery (recipient_id set) only what it needs that is not stored in the clear.
  payload: Buffer | null;
  // A wrapper built at delivery: the recipient it is for (null: payload is the built mail).
  recipient_id: string | null;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  lease_owner: string | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
};

export type TAuditTable = {
  id: Generated<number>;
  tenant_id: string;
  message_id: string | null;
  type: string;
  actor: string | null;
  data: string | null;
  at: number;
};

export type TPasscodeChallengeTable = {
  id: string;
  tenant_id: string;
  message_id: string;
  // Null when the address asked for is not a recipient: such a challenge never verifies.
  recipient_id: string | null;
  address: string;
  key_version: number;
  code_hash: string;
  browser_hash: string;
  reference: string;
  attempts: number;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
};

export type TRecipientSessionTable = {
  id: string;
  tenant_id: string;
  message_id: string;
  recipient_id: string;
  address: string;
  kept: number;
  created_at: number;
  last_seen_at: number;
  // The latest a session can live, however active: 12 hours from sign-in.
  expires_at: number;
  ended_at: number | null;
};

export type TRateEventTable = {
  key: string;
  at: number;
};

// Events of one limit key counted per time bucket (the bucket's start, ms): limits with a large max.
export type TRateCounterTable = {
  key: string;
  bucket: number;
  count: number;
};

// An envelope posted from message.html for a message the server keeps no copy of: held only
// while the recipient signs in and reads, then deleted.
export type TReaderViewTable = {
  message_id: string;
  // 'plain' (remote images blocked) or 'images' (the reader allowed them).
  variant: string;
  // The sanitiser's configuration and the view's format: another version is rendered again.
  version: string;
  sealed: Buffer;
  expires_at: number | null;
  created_at: number;
};

export type THeldEnvelopeTable = {
  message_id: string;
  envelope: string;
  expires_at: number;
};

// A tenant's own OpenID provider. Its client secret is sealed under the tenant key (key_version).
export type TIdentityProviderTable = {
  // 'oidc-<tenant slug>-<name>': the provider's part of the one redirect URI every tenant host shares.
  id: string;
  tenant_id: string;
  name: string;
  display_name: string;
  issuer: string;
  client_id: string;
  client_secret: Buffer;
  key_version: number;
  // JSON array of mail domains whose addresses this issuer may assert without email_verified.
  trusted_domains: string;
  created_at: number;
  // 1: admins of the tenant may sign in to the console with it (0015_admin_oidc).
  for_admins: Generated<number>;
};

export type TFederatedSignInStatus = 'started' | 'redirected' | 'verified' | 'failed' | 'consumed';

// One federated sign-in, from the button on a tenant's page, through the provider at the central
// auth host, back to the tenant host through a single-use hand-off.
export type TFederatedSignInTable = {
  id: string;
  tenant_id: string;
  // A recipient's sign-in: the message, and the link the reader came from (where they go back
  // to). An admin's has neither.
  message_id: string | null;
  link_token: string | null;
  provider: string;
  // Hashes of the secrets in the cookies that bind the sign-in to one browser, on each host.
  browser_hash: string;
  auth_browser_hash: string | null;
  keep: number;
  switch_account: number;
  status: TFederatedSignInStatus;
  // After the provider answered: 'ok', 'not_recipient' or 'unverified', and the address it gave.
  outcome: string | null;
  address: string | null;
  handoff_hash: string | null;
  created_at: number;
  // The sign-in must reach the provider and come back before this; the hand-off has its own minute.
  expires_at: number;
  handoff_expires_at: number | null;
  purpose: Generated<'recipient' | 'admin'>;
  // An admin's: the console page to go on to, and the session a re-verification replaces.
  next_path: string | null;
  replaces_session: string | null;
  // An admin's: the tenant host it began on, where the hand-off returns.
  return_host: string | null;
};

// The envelope of an attachment-only message (a tenant that keeps no copy on the server), kept
// only until its last wrapper is delivered, bounced or given up, then deleted.
export type TPendingEnvelopeTable = {
  message_id: string;
  envelope: string;
};

// A kept message's envelope ciphertext, a row (up to 768 KiB) at a time in order of seq; its
// frame is messages.envelope (lib/store/envelope-parts.ts).
export type TEnvelopePartTable = {
  message_id: string;
  seq: number;
  data: Buffer;
};

// Who may hand the SMTP relay mail for a tenant: a credential (AUTH) ...
export type TRelayCredentialTable = {
  id: string;
  tenant_id: string;
  username: string;
  // SHA-256 of the 256-bit random password (lib/relay/relay-credentials.ts).
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
};

// ... or a source address range (CIDR) that may relay without AUTH.
export type TRelayAllowTable = {
  id: string;
  tenant_id: string;
  cidr: string;
  created_at: number;
};

// An outbound connector: where mail to one recipient domain goes, and the TLS it must have.
// A tenant's inbound route: mail from outside for its mail domain reaches the relay (its MX or its
// gateway's inbound connector points here) and goes on to this host (lib/relay/inbound-route.ts).
export type TInboundRouteTable = {
  tenant_id: string;
  host: string;
  port: number;
  tls: 'opportunistic' | 'required' | 'verify';
  tls_name: string | null;
  // 1: S/MIME mail encrypted to the tenant's own certificate is delivered decrypted (verify only).
  decrypt: number;
  created_at: number;
  updated_at: number;
};

export type TConnectorTable = {
  id: string;
  tenant_id: string;
  // A recipient domain, or '*' for the tenant's default.
  domain: string;
  // null: the domain's MX hosts.
  host: string | null;
  port: number | null;
  tls: 'opportunistic' | 'required' | 'verify';
  // The name the certificate must carry (verify); null: the host.
  tls_name: string | null;
  // 1: portal replies to the tenant's own users go over it decrypted (verify only).
  internal: number;
  created_at: number;
};

// Mail-flow rules (lib/rules): `json` is one rule as ZRule parsed it; names are unique per tenant
// (case-insensitive, checked with the whole set).
export type TMailRuleTable = {
  tenant_id: string;
  position: number;
  name: string;
  json: string;
  updated_at: number;
};

// Per tenant: the action when no rule matches (JSON, ZDefaultAction) and the extra internal
// domains (JSON array).
export type TMailRuleSettingsTable = {
  tenant_id: string;
  default_action: string;
  internal_domains: string;
  updated_at: number;
};

// A tenant domain's DKIM key: the public half as published (base64 of the SPKI DER), the
// private half (PKCS#8 PEM) sealed under the tenant key of key_version. retired_at: no longer
// signing since then, kept listed (its DNS record still verifies mail in flight) for a week.
export type TDkimKeyTable = {
  id: string;
  tenant_id: string;
  domain: string;
  selector: string;
  algorithm: 'rsa-2048' | 'ed25519';
  public_key: string;
  private_key: Buffer;
  key_version: number;
  created_at: number;
  retired_at: number | null;
};

// S/MIME certificates (lib/smime): certificate and chain are DER (the chain as concatenated DER
// certificates); private_key is sealed under the tenant key, on `signing` rows only.
export type TSmimeCertificateKind = 'signing' | 'recipient' | 'ca';
export type TSmimeCertificateTable = {
  id: string;
  tenant_id: string;
  kind: TSmimeCertificateKind;
  address: string | null;
  fingerprint: string;
  certificate: Buffer;
  chain: Buffer | null;
  private_key: Buffer | null;
  key_version: number | null;
  source: 'admin' | 'inbound';
  not_after: number;
  created_at: number;
  // On `recipient` rows: the content-cipher OIDs the correspondent announced (SMIMECapabilities in
  // their signed mail, or named by an admin), space-separated; null when unknown.
  capabilities: string | null;
  // On `signing` rows with an RSA key: 'pss' to sign with RSASSA-PSS; null for PKCS#1 v1.5.
  signature_scheme: 'pss' | null;
};

// The tenant admin console (lib/admin).
export type TAdminRole = 'owner' | 'admin' | 'auditor';

export type TAdminTable = {
  id: string;
  tenant_id: string;
  // Lower-cased; unique per tenant.
  email: string;
  role: TAdminRole;
  // The WebAuthn user handle (random, base64url): never the address.
  webauthn_user_id: string;
  created_at: number;
};

export type TAdminPasskeyTable = {
  id: string;
  admin_id: string;
  // base64url, as WebAuthn names it.
  credential_id: string;
  // COSE public key, base64url.
  public_key: string;
  counter: number;
  // JSON array of transports the authenticator reported.
  transports: string;
  label: string;
  created_at: number;
  last_used_at: number | null;
};

export type TAdminInvitationTable = {
  id: string;
  tenant_id: string;
  email: string;
  role: TAdminRole;
  // HMAC of the link's secret under the tenant key of key_version.
  hash: string;
  key_version: number;
  invited_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
};

// A WebAuthn ceremony in flight: its challenge, consumed once (deleted) when the answer comes.
export type TAdminChallengeTable = {
  id: string;
  tenant_id: string;
  purpose: 'register' | 'signin';
  // register: the invitation id or 'admin:<id>' (another passkey for a signed-in admin).
  subject: string | null;
  challenge: string;
  expires_at: number;
};

export type TAdminSessionTable = {
  id: string;
  tenant_id: string;
  admin_id: string;
  // HMAC of the cookie's secret under the tenant key of key_version.
  hash: string;
  key_version: number;
  created_at: number;
  last_seen_at: number;
  // The last passkey check: sensitive actions want one within 5 minutes.
  verified_at: number;
  // 8 hours from sign-in, however active.
  expires_at: number;
  ended_at: number | null;
};

export type TDatabase = {
  dkim_keys: TDkimKeyTable;
  smime_certificates: TSmimeCertificateTable;
  admins: TAdminTable;
  admin_passkeys: TAdminPasskeyTable;
  admin_invitations: TAdminInvitationTable;
  admin_challenges: TAdminChallengeTable;
  admin_sessions: TAdminSessionTable;
  relay_credentials: TRelayCredentialTable;
  relay_allow: TRelayAllowTable;
  connectors: TConnectorTable;
  inbound_routes: TInboundRouteTable;
  mail_rules: TMailRuleTable;
  mail_rule_settings: TMailRuleSettingsTable;
  pending_envelopes: TPendingEnvelopeTable;
  envelope_parts: TEnvelopePartTable;
  federated_signins: TFederatedSignInTable;
  identity_providers: TIdentityProviderTable;
  held_envelopes: THeldEnvelopeTable;
  reader_views: TReaderViewTable;
  passcode_challenges: TPasscodeChallengeTable;
  rate_events: TRateEventTable;
  rate_counters: TRateCounterTable;
  recipient_sessions: TRecipientSessionTable;
  tenants: TTenantTable;
  branding: TBrandingTable;
  tenant_keys: TTenantKeyTable;
  messages: TMessageTable;
  recipients: TRecipientRowTable;
  api_keys: TApiKeyTable;
  outbox: TOutboxTable;
  audit_events: TAuditTable;
};
