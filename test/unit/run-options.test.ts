import { describe, expect, it } from "vitest";
import { isEvalrunError } from "../../src/define/errors.js";
import { checkRunOptions } from "../../src/runner/check-options.js";

describe("runEvals() options", () => {
  it("takes false for config and envFile (turned off), and refuses a value of another type for a path", async () => {
    await expect(checkRunOptions({ config: false, envFile: false })).resolves.toBeUndefined();
    const refused = await checkRunOptions({ exportDir: false as never }).catch((error: unknown) => error);
    expect(isEvalrunError(refused)).toBe(true);
    expect((refused as Error).message).toBe(
      "runEvals(): exportDir must be a non-empty string; got the boolean false.",
    );
  });
});
