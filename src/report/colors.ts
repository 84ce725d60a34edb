import pc from "picocolors";

export type Colors = ReturnType<typeof pc.createColors>;

/** Colours on when the stream is a terminal (or FORCE_COLOR), off with NO_COLOR; as picocolors decides. */
export function colorsFor(stream: { isTTY?: boolean }): Colors {
  const env = process.env;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0";
  const enabled = env.NO_COLOR === undefined && (forced || stream.isTTY === true) && env.TERM !== "dumb";
  return pc.createColors(enabled);
}
