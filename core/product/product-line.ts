import type { SelfTestPlan } from '../../common/self-test-plan.js';
import { productConfigFromManifest, type FlashRegion, type LoadedProduct, type ProductBuild, type TokenInput } from './manifest.js';
import type { ProductConfig } from './product.js';

export interface ActiveProduct {
  loaded: LoadedProduct;
  config: ProductConfig;
  build: ProductBuild;
}

export interface ProductLineOptions {
  /** The cloud template and organisation every product of this station provisions into. */
  templateId: string;
  orgId: number;
  plan: 'token-only' | 'full';
}

const CONFIG_KEYS: readonly (keyof ProductConfig)[] = [
  'id',
  'name',
  'chipFamily',
  'templateId',
  'orgId',
  'nvs',
  'cloudHost',
  'qrTemplate',
  'labelStockId',
  'flashBaud',
  'scanBack',
  'plan',
  'tokenKind',
];

/**
 * The product the line builds now, switchable at runtime. Everything product-dependent (engine,
 * label queue, puller, QA) holds `product`, a live view whose fields read the active product at
 * each use, and calls `buildPayload` / `firmwareRegions` / `testPlan` here, so a switch takes effect
 * for the next board without rebuilding those objects. Whether a switch is allowed (no slot at
 * work) is decided by the caller (core/settings/production-control.ts).
 */
export class ProductLine {
  private active: ActiveProduct;
  private labelStockOverride: string | null = null;
  readonly product: ProductConfig;

  constructor(
    private readonly options: ProductLineOptions,
    initial: LoadedProduct,
  ) {
    this.active = this.prepare(initial);
    const view = {} as ProductConfig;
    for (const key of CONFIG_KEYS) {
      // Enumerable getters: a spread of the view copies the values of that moment.
      Object.defineProperty(view, key, { enumerable: true, get: () => this.field(key) });
    }
    this.product = view;
  }

  get current(): ActiveProduct {
    return this.active;
  }

  /** Makes `loaded` the line's product (its first build: the chip the line runs). Throws if unusable. */
  activate(loaded: LoadedProduct): void {
    this.active = this.prepare(loaded);
  }

  /** Lays labels out on another stock than the manifest's; null: the manifest's own. */
  setLabelStock(id: string | null): void {
    this.labelStockOverride = id;
  }

  buildPayload(token: TokenInput): FlashRegion[] {
    return this.active.build.buildTokenPayload(token).regions;
  }

  get firmwareRegions(): FlashRegion[] {
    return this.active.build.firmwareRegions;
  }

  get testPlan(): SelfTestPlan {
    return this.active.loaded.testPlan;
  }

  private field(key: keyof ProductConfig): unknown {
    if (key === 'labelStockId') return this.labelStockOverride ?? this.active.config.labelStockId;
    return this.active.config[key];
  }

  private prepare(loaded: LoadedProduct): ActiveProduct {
    const { build, ...config } = productConfigFromManifest(loaded, { templateId: this.options.templateId, orgId: this.options.orgId });
    return { loaded, config: { ...config, plan: this.options.plan }, build };
  }
}
