/**
 * The "NetViz" log as VS Code keeps it on disk: a LogOutputChannel writes one entry per
 * message, `2026-11-30 09:50:00.123 [info] text`, a message's further lines following
 * without a stamp. Tests read this file rather than the Output view, whose editor only
 * renders the lines in view.
 */

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export type LogLevel = "trace" | "debug" | "info" | "warning" | "error";

export interface LogEntry {
  level: LogLevel;
  /** The message, its further lines included. */
  text: string;
}

const STAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[(trace|debug|info|warning|error)\] ?(.*)$/;

/** Entries of a log file's text; lines before the first stamp are dropped. */
export function parseLog(text: string): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of text.split("\n")) {
    const match = STAMP.exec(line);
    if (match) entries.push({ level: match[1] as LogLevel, text: match[2] });
    else if (entries.length > 0 && line !== "") entries[entries.length - 1].text += `\n${line}`;
  }
  return entries;
}

/** The levels a log shows when set to `level`. */
export function shownAt(level: LogLevel, entries: LogEntry[]): LogEntry[] {
  const order: LogLevel[] = ["trace", "debug", "info", "warning", "error"];
  return entries.filter((e) => order.indexOf(e.level) >= order.indexOf(level));
}

/**
 * Lines TensorFlow, absl and XLA print when they start: none may reach the log. Each
 * worker printed the first two (and spares again) before NetViz silenced them.
 */
export const TOOLKIT_NOISE: readonly RegExp[] = [
  /oneDNN custom operations are on/,
  /All log messages before absl::InitializeLog\(\) is called/,
  /TF_CPP_MIN_LOG_LEVEL|TF_ENABLE_ONEDNN_OPTS/,
  /cpu_feature_guard|This TensorFlow binary is optimized/,
  /^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \w+\.cc:\d+\]/m,
  /Unable to register cu(DNN|FFT|BLAS) factory|Could not find cuda drivers/,
];

/** The "NetViz" channel's log files under a user-data `logs` folder (one per window session). */
export function findNetvizLogs(logsDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/NetViz\.log$/.test(name)) found.push(path);
    }
  };
  walk(logsDir);
  return found.sort();
}

/** Every entry of the NetViz log files under `logsDir`, oldest file first. */
export function readNetvizLog(logsDir: string): LogEntry[] {
  return findNetvizLogs(logsDir).flatMap((file) => parseLog(readFileSync(file, "utf8")));
}
