// Finding recorder plugins: built-in ids registered lazily (a run without otel never loads the
// OpenTelemetry packages), or a module path of the user's own.
import { describeError, UsageError } from "../errors.ts";
import type { RecorderPlugin } from "./types.ts";

/** Whether `value` looks like a recorder plugin. */
export function isRecorderPlugin(value: unknown): value is RecorderPlugin {
  return typeof value === "object" && value !== null &&
    typeof (value as RecorderPlugin).id === "string" &&
    typeof (value as RecorderPlugin).create === "function";
}

/** Finds recorder plugins by id (built-in) or by module path, loading each lazily. */
export class RecorderRegistry {
  readonly #loaders = new Map<string, () => Promise<RecorderPlugin>>();

  /** Registers a built-in recorder, loaded on first use. */
  register(id: string, load: () => Promise<RecorderPlugin>): this {
    this.#loaders.set(id, load);
    return this;
  }

  /** Ids of the registered recorders. */
  get ids(): string[] {
    return [...this.#loaders.keys()];
  }

  /** Loads the plugin named by `spec`: a registered id or a path/URL to a module. */
  async load(spec: string, cwd: string = Deno.cwd()): Promise<RecorderPlugin> {
    const builtin = this.#loaders.get(spec);
    if (builtin) return await builtin();
    if (!/^(\.{0,2}\/|file:|https?:)|\.[cm]?[jt]s$/.test(spec)) {
      throw new UsageError(
        `Cannot load recorder "${spec}": no such recorder; use one of ${
          this.ids.join(", ")
        } or a path to a plugin module`,
      );
    }
    const url = /^(file|https?):/.test(spec)
      ? spec
      : new URL(spec, `file://${cwd.endsWith("/") ? cwd : cwd + "/"}`).href;
    let module: Record<string, unknown>;
    try {
      module = await import(url);
    } catch (cause) {
      throw new UsageError(`Cannot load recorder "${spec}": ${describeError(cause)}`, { cause });
    }
    const plugin = module.default ?? module.recorder;
    if (!isRecorderPlugin(plugin)) {
      throw new UsageError(
        `Cannot load recorder "${spec}": its default export is not a recorder plugin ({ id, create })`,
      );
    }
    return plugin;
  }

  /**
   * Loads every plugin of a run, in order: ids and paths through {@link load}, plugin objects
   * as they are. Two plugins with one id are refused: their records could not be told apart.
   */
  async loadAll(specs: readonly (string | RecorderPlugin)[]): Promise<RecorderPlugin[]> {
    const plugins: RecorderPlugin[] = [];
    for (const spec of specs) {
      const plugin = typeof spec === "string" ? await this.load(spec) : spec;
      if (plugins.some((p) => p.id === plugin.id)) {
        throw new UsageError(
          `Cannot use recorder "${
            typeof spec === "string" ? spec : plugin.id
          }": a recorder with the id "${plugin.id}" is already in the run`,
        );
      }
      plugins.push(plugin);
    }
    return plugins;
  }
}
