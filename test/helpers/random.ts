// The tests' seeded generator is the bench's: one copy, in plain JavaScript the bench scripts can import.
export { random } from "../../bench/random.mjs";
