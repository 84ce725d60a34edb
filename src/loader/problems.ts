import type { EvalrunErrorCode } from "../define/errors.js";

/** Something wrong with one eval file (or one eval in it); the other files still run. */
export interface Problem {
  code: EvalrunErrorCode;
  /** Absolute path of the file at fault. */
  file: string;
  message: string;
  hint?: string | undefined;
  /** `line:column` in `file` when known. */
  line?: number | undefined;
  column?: number | undefined;
  /** A code frame (compile errors) or a source-mapped stack (load errors). */
  detail?: string | undefined;
}
