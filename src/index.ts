/**
 * gantry as a library: `import { createEngine } from 'gantry'`.
 */
export { createEngine, Engine, DEFAULT_ROOT, type EngineOptions, type DiskUsage } from './engine/engine.js';
export { GantryError, isGantryError, type ErrorCode } from './core/errors.js';
export type { OpContext, ProgressEvent } from './core/op-context.js';
export type { Digest } from './core/digest.js';
export type { ImageConfig, ImageManifest, ImageIndex, Descriptor, Platform } from './core/oci.js';
export type { HistoryRow, ImageInspect, ImageSummary, LoadedImage, PruneReport, RemoveEvent } from './engine/engine.js';
export { parseReference, normalizeReference, familiarString, type Reference } from './core/reference.js';
