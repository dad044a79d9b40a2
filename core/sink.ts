// Where text leaves the process: stdout, stderr, a file, or memory in tests. One full-write loop
// serves run.ts, the recorders and plugins, so no writer keeps a copy of its own.
import { UsageError } from "./errors.ts";

/** A text sink (stdout, stderr, a file, a memory buffer in tests). */
export interface TextSink {
  /** Writes all of `text` before returning (no buffer to lose at exit). */
  write(text: string): void;
  /** Whether it is an interactive terminal (live redraw in place). */
  readonly isTerminal: boolean;
  /** Flushes and closes what the sink opened (a file); absent for streams it does not own. */
  close?(): void;
}

/** What {@link fileSink} needs of a Deno file such as `Deno.stdout` or an opened `Deno.FsFile`. */
export interface WritableFile {
  writeSync(p: Uint8Array): number;
  isTerminal?(): boolean;
}

const encoder = new TextEncoder();

/** Writes every byte of `bytes`, however many calls `writeSync` takes. */
export function writeAllSync(file: WritableFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

/** A sink writing to an open file or stream (`Deno.stdout`); closing it is the caller's job. */
export function fileSink(file: WritableFile): TextSink {
  return {
    isTerminal: file.isTerminal?.() ?? false,
    write: (text) => writeAllSync(file, encoder.encode(text)),
  };
}

/** How {@link openFileSink} opens its file. */
export interface OpenFileOptions {
  /** Append to the file instead of truncating it (default false). */
  append?: boolean;
  /** Names the file in the error, e.g. `JSON file` (default `file`). */
  what?: string;
}

/**
 * Opens (creates) `path` and returns a sink that writes whole texts to it synchronously, so
 * nothing waits in a buffer; `close()` syncs and closes it. A path that cannot be opened throws
 * a {@link UsageError}: `Cannot open JSON file "out/x.json": No such file or directory ...`. A
 * write that fails (a full disk) throws once; the file is cut back to the last whole write, and
 * later writes are dropped, so it never ends mid-line.
 */
export function openFileSink(path: string, options: OpenFileOptions = {}): TextSink {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, {
      write: true,
      create: true,
      append: options.append ?? false,
      truncate: !options.append,
    });
  } catch (cause) {
    throw new UsageError(
      `Cannot open ${options.what ?? "file"} "${path}": ${
        cause instanceof Error ? cause.message : cause
      }`,
      { cause },
    );
  }
  let open = true;
  // A device or pipe (`/dev/stderr`) has nothing to sync and no length to cut back to.
  const { isFile, size } = file.statSync();
  /** Bytes of whole writes so far: a failed write is cut back to here. */
  let length = options.append ? size : 0;
  let failed = false;
  return {
    isTerminal: false,
    write(text) {
      if (failed || !open) return;
      const bytes = encoder.encode(text);
      try {
        writeAllSync(file, bytes);
        length += bytes.length;
      } catch (cause) {
        // A full disk: the file keeps whole writes only, and later ones are dropped unsaid.
        failed = true;
        try {
          if (isFile) file.truncateSync(length);
        } catch { /* the file ends where the disk filled */ }
        throw new Error(
          `Cannot write ${options.what ?? "file"} "${path}": ${
            cause instanceof Error ? cause.message : cause
          }; later writes are dropped`,
          { cause },
        );
      }
    },
    close() {
      if (!open) return;
      open = false;
      try {
        if (isFile) file.syncDataSync();
      } finally {
        file.close();
      }
    },
  };
}

/** Why `path` cannot be written, or null when it can: a missing folder, a folder, no access. */
function unwritable(path: string): string | null {
  try {
    if (Deno.statSync(path).isDirectory) return "it is a directory";
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return (error as Error).message;
  }
  const probe = `${path}.${Deno.pid}.probe`;
  try {
    Deno.writeTextFileSync(probe, "");
    Deno.removeSync(probe);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Checks before the run that an output file can be written (its folder exists and takes new
 * files), so a bad path fails at once, not after the run. Throws a {@link UsageError}:
 * `Cannot write summary file "out/s.json": No such file or directory ...`.
 */
export function checkWritable(path: string, what: string): void {
  const why = unwritable(path);
  if (why !== null) throw new UsageError(`Cannot write ${what} "${path}": ${why}`);
}

/**
 * Writes `text` to `path` whole or not at all: into a temporary file beside it, synced, then
 * renamed over it. A full disk leaves the old file (or none), never half of one.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${Deno.pid}.tmp`;
  try {
    const file = await Deno.open(temporary, { write: true, create: true, truncate: true });
    try {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
