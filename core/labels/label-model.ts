import { stationError } from '../../common/errors.js';

/**
 * What one printed label shows. There is deliberately no field for the AuthToken: the label is the
 * customer's claim code (the QR token, `sqr_…`), which is only good for claiming, while the AuthToken
 * is the secret flashed into the board and never leaves the station in print.
 */
export interface LabelModel {
  /** The exact string encoded in the QR code (default `{qrToken}+{orgId}`). */
  qrPayload: string;
  productName: string;
  serial: string;
  mac?: string;
  /** Short code a person can read off the label and compare (last 6 chars of the QR token, grouped). */
  humanCode: string;
}

/** The payload the Blynk apps accept when claiming: the plain string, not a URL. */
export const DEFAULT_QR_TEMPLATE = '{qrToken}+{orgId}';

/** Placeholders a per-product QR template may use. */
export const QR_TEMPLATE_PLACEHOLDERS = ['qrToken', 'orgId', 'serial', 'mac', 'templateId'] as const;
export type QrTemplatePlaceholder = (typeof QR_TEMPLATE_PLACEHOLDERS)[number];

/**
 * Longest payload we encode. 128 bytes at error correction M is QR version 7 (45 modules); on the
 * smallest stock (1 in tall) that still gives modules of about 0.44 mm, which phones and 203-dpi
 * thermal printers both handle.
 */
export const QR_PAYLOAD_MAX_CHARS = 128;

/** Characters of the QR token shown as the human code, and how they are grouped. */
export const HUMAN_CODE_CHARS = 6;
const HUMAN_CODE_GROUP = 3;

/** `sqr_` + the token body; the body alphabet is the static-token alphabet `[-_a-zA-Z0-9]`. */
const QR_TOKEN_PATTERN = /^sqr_[-_A-Za-z0-9]{6,64}$/;
const ORG_ID_PATTERN = /^[1-9][0-9]{0,18}$/;
/** Printable ASCII without braces: what may appear in a template literal part or a field value. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/**
 * Placeholder names that would print a secret. Matching is on the name, case-insensitive, so
 * `{authToken}`, `{AUTH}`, `{deviceToken}`, `{token}`, `{secret}` and friends are all refused with
 * a message that says why, instead of the generic "unknown placeholder".
 */
const SECRET_LIKE_NAME = /auth|devicetoken|^token$|secret|pass|credential|key/i;

export interface QrPayloadFields {
  /** The claim code (`sqr_…`), never the AuthToken. */
  qrToken: string;
  orgId: number | string;
  serial?: string;
  mac?: string;
  templateId?: string;
}

function invalid(message: string): never {
  throw stationError('INVALID_INPUT', message);
}

/** Splits a template into literal text and placeholder names; throws INVALID_INPUT on any bad part. */
export function parseQrTemplate(template: string): (string | { placeholder: QrTemplatePlaceholder })[] {
  if (typeof template !== 'string' || template.length === 0) invalid('The QR template is empty; use {qrToken}+{orgId}.');
  const parts: (string | { placeholder: QrTemplatePlaceholder })[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  let sawQrToken = false;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    parts.push(template.slice(last, m.index));
    const name = (m[1] ?? '').trim();
    if (SECRET_LIKE_NAME.test(name)) {
      invalid(`The QR template uses {${name}}, which would print a secret on the label; labels carry only the QR token.`);
    }
    if (!(QR_TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
      invalid(`The QR template uses an unknown placeholder {${name}}; allowed: ${QR_TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}.`);
    }
    if (name === 'qrToken') sawQrToken = true;
    parts.push({ placeholder: name as QrTemplatePlaceholder });
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  for (const part of parts) {
    if (typeof part !== 'string') continue;
    if (part.includes('{') || part.includes('}')) invalid('The QR template has an unmatched brace; write placeholders as {name}.');
    if (!PRINTABLE_ASCII.test(part)) invalid('The QR template may only contain printable ASCII characters.');
  }
  if (!sawQrToken) invalid('The QR template must contain {qrToken}, or the label cannot claim the device.');
  return parts.filter((p) => p !== '');
}

/** Throws INVALID_INPUT when the template is not usable; for settings forms that validate on save. */
export function validateQrTemplate(template: string): void {
  parseQrTemplate(template);
}

export function isQrToken(value: unknown): value is string {
  return typeof value === 'string' && QR_TOKEN_PATTERN.test(value);
}

function fieldValue(name: QrTemplatePlaceholder, fields: QrPayloadFields): string {
  switch (name) {
    case 'qrToken':
      if (!isQrToken(fields.qrToken)) invalid('The QR token is not a claim code (sqr_…); a label can only carry the QR token.');
      return fields.qrToken;
    case 'orgId': {
      const orgId = String(fields.orgId);
      if (!ORG_ID_PATTERN.test(orgId)) invalid('The organisation id for the QR payload must be a positive whole number.');
      return orgId;
    }
    case 'serial':
    case 'mac':
    case 'templateId': {
      const value = fields[name];
      if (value === undefined || value === '') invalid(`The QR template uses {${name}} but the label has no ${name}.`);
      if (!PRINTABLE_ASCII.test(value)) invalid(`The ${name} for the QR payload may only contain printable ASCII characters.`);
      return value;
    }
  }
}

/**
 * Fills a per-product template. Only the named fields are read, so passing a wider object (a token
 * row that also holds the AuthToken) cannot leak anything into the payload.
 */
export function buildQrPayload(template: string, fields: QrPayloadFields): string {
  const payload = parseQrTemplate(template)
    .map((part) => (typeof part === 'string' ? part : fieldValue(part.placeholder, fields)))
    .join('');
  if (payload.length > QR_PAYLOAD_MAX_CHARS) {
    invalid(`The QR payload is ${payload.length} characters; at most ${QR_PAYLOAD_MAX_CHARS} fit a label, shorten the template.`);
  }
  return payload;
}

/** The last HUMAN_CODE_CHARS characters of the QR token, in groups of three: `sqr_…JXVooBR` → `XVo oBR`. */
export function humanCodeFor(qrToken: string): string {
  if (!isQrToken(qrToken)) invalid('The QR token is not a claim code (sqr_…); cannot derive the human code.');
  const tail = qrToken.slice(-HUMAN_CODE_CHARS);
  const groups: string[] = [];
  for (let i = 0; i < tail.length; i += HUMAN_CODE_GROUP) groups.push(tail.slice(i, i + HUMAN_CODE_GROUP));
  return groups.join(' ');
}

/** `240ac4123456`, `24-0A-C4-12-34-56`, `24:0a:c4:12:34:56` → `24:0A:C4:12:34:56`. */
export function formatMac(mac: string): string {
  const hex = mac.replace(/[:\-.\s]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) invalid('The MAC address is not 12 hexadecimal digits.');
  return hex.toUpperCase().match(/../g)!.join(':');
}

export interface LabelInput extends QrPayloadFields {
  productName: string;
  serial: string;
}

/**
 * Builds the label for one board from whatever record the caller holds (a queue row may well carry
 * the AuthToken too): only the fields listed in `LabelInput` are read.
 */
export function buildLabelModel(input: LabelInput, template: string = DEFAULT_QR_TEMPLATE): LabelModel {
  if (typeof input.productName !== 'string' || input.productName.trim() === '') invalid('The label needs a product name.');
  if (typeof input.serial !== 'string' || input.serial.trim() === '') invalid('The label needs a serial number.');
  const mac = input.mac !== undefined && input.mac !== '' ? formatMac(input.mac) : undefined;
  const fields: QrPayloadFields = { qrToken: input.qrToken, orgId: input.orgId, serial: input.serial.trim() };
  if (mac !== undefined) fields.mac = mac;
  if (input.templateId !== undefined) fields.templateId = input.templateId;
  const label: LabelModel = {
    qrPayload: buildQrPayload(template, fields),
    productName: input.productName.trim(),
    serial: input.serial.trim(),
    humanCode: humanCodeFor(input.qrToken),
  };
  if (mac !== undefined) label.mac = mac;
  return label;
}
