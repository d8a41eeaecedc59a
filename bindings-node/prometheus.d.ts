// Types of faultlens/prometheus (prometheus.js): faultlens objects as prom-client metrics.
import type {
  Adwin,
  IncidentGrouper,
  KlDriftDetector,
  PageHinkley,
  Resolver,
  SimilarityIndex,
  TextClassifier,
  TextIndex,
  WindowAggregator,
} from './index'

/** The objects `register` exports (docs/metrics.md lists their families). */
export type Exportable =
  | Resolver
  | TextClassifier
  | WindowAggregator
  | KlDriftDetector
  | Adwin
  | PageHinkley
  | IncidentGrouper
  | SimilarityIndex
  | TextIndex

/**
 * What `register` needs of a registry: prom-client's `Registry` (and its global `register`)
 * has both methods. Typed structurally so this file does not depend on prom-client's types.
 */
export interface RegistryLike {
  registerMetric(metric: any): void
  removeSingleMetric(name: string): void
}

/**
 * Reports `obj` in `registry` (default: prom-client's global registry, which needs prom-client
 * installed) with the label `name`, read at every scrape. Throws a `TypeError` for another kind
 * of object or an empty name, and an `Error` when `name` is already registered there.
 */
export declare function register(obj: Exportable, name: string, registry?: RegistryLike): void

/** Stops reporting the object registered as `name`; returns whether there was one. */
export declare function unregister(name: string, registry?: RegistryLike): boolean
