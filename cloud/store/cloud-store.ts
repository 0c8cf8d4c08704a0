import { newClientId, newClientSecret } from '../secrets.js';
import { openCloudDb, type CloudDb } from './cloud-db.js';
import { DeviceRecordStore } from './device-record-store.js';
import { DeviceStore } from './device-store.js';
import { LifecycleStore } from './lifecycle-store.js';
import { OAuthStore, type TokenLifetimes } from './oauth-store.js';
import { OrgStore, type MetadataField } from './org-store.js';
import { StaticTokenStore } from './static-token-store.js';

export interface SeedOptions {
  orgId?: number;
  orgName?: string;
  templateId?: number;
  templateName?: string;
  /** What firmware declares as BLYNK_TEMPLATE_ID. */
  blynkTemplateId?: string;
  metadataFields?: MetadataField[];
  clientId?: string;
  clientSecret?: string;
}

export interface SeedResult {
  orgId: number;
  templateId: number;
  clientId: string;
  /** Only known here, at seeding time: the store keeps a scrypt hash. */
  clientSecret: string;
}

export const DEFAULT_METADATA_FIELDS: readonly MetadataField[] = [
  { name: 'Serial Number', type: 'text' },
  { name: 'Manufacturing Batch', type: 'text' },
];

/** The cloud's whole state behind one object; one database (SQLite or PostgreSQL). */
export class CloudStore {
  readonly orgs: OrgStore;
  readonly oauth: OAuthStore;
  readonly staticTokens: StaticTokenStore;
  readonly devices: DeviceStore;
  readonly lifecycle: LifecycleStore;
  readonly deviceRecords: DeviceRecordStore;

  private constructor(
    readonly db: CloudDb,
    lifetimes: TokenLifetimes,
  ) {
    this.orgs = new OrgStore(db);
    this.oauth = new OAuthStore(db, lifetimes);
    this.staticTokens = new StaticTokenStore(db);
    this.devices = new DeviceStore(db, this.orgs);
    this.lifecycle = new LifecycleStore(db);
    this.deviceRecords = new DeviceRecordStore(db);
  }

  /** `location`: a SQLite file, `:memory:`, or a `postgres://` URL. */
  static async open(location: string, lifetimes: TokenLifetimes): Promise<CloudStore> {
    return new CloudStore(await openCloudDb(location), lifetimes);
  }

  /**
   * Makes sure one organisation, one device template and one OAuth2 client exist. Idempotent on a
   * persistent database: the organisation and template are created only when missing; the client's
   * secret is (re)set to the given or a fresh random one, so the returned credentials always work.
   */
  async seed(options: SeedOptions, now: number): Promise<SeedResult> {
    const orgId = options.orgId ?? 1;
    const templateId = options.templateId ?? 1;
    await this.orgs.ensureOrg({ id: orgId, name: options.orgName ?? 'Flashline Demo Manufacturer' }, now);
    await this.orgs.ensureTemplate(
      {
        id: templateId,
        orgId,
        name: options.templateName ?? 'Flashline Demo Product',
        blynkTemplateId: options.blynkTemplateId ?? 'TMPLflashline1',
        metadataFields: options.metadataFields ?? [...DEFAULT_METADATA_FIELDS],
      },
      now,
    );
    const clientId = options.clientId ?? newClientId();
    const clientSecret = options.clientSecret ?? newClientSecret();
    await this.oauth.upsertClient({ clientId, orgId, secret: clientSecret }, now);
    return { orgId, templateId, clientId, clientSecret };
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
