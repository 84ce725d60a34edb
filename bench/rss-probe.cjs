// Preloaded into each measured process (NODE_OPTIONS=--require): records its peak RSS when it exits.
const { appendFileSync } = require("node:fs");
process.on("exit", () => {
  if (process.env.EVALRUN_BENCH_RSS)
    appendFileSync(process.env.EVALRUN_BENCH_RSS, `${process.resourceUsage().maxRSS}\n`);
});
