// Fails the test run when line coverage of contracts/ (mocks included; tests and the benchmark-only
// contracts/bench excluded) is under the floor.
import { readFileSync } from "node:fs";

const FLOOR = Number(process.env.COVERAGE_FLOOR ?? "95");
const LCOV = "coverage/lcov.info";

let text: string;
try {
  text = readFileSync(LCOV, "utf8");
} catch {
  console.error(`No coverage report at ${LCOV}: run "hardhat test --coverage" first.`);
  process.exit(1);
}

const rows: { file: string; found: number; hit: number }[] = [];
for (const record of text.split("end_of_record")) {
  const file = /^SF:(.+)$/m.exec(record)?.[1]?.trim();
  if (!file || !/(^|\/)contracts\//.test(file) || file.endsWith(".t.sol") || /contracts\/bench\//.test(file))
    continue;
  const found = Number(/^LF:(\d+)$/m.exec(record)?.[1] ?? 0);
  const hit = Number(/^LH:(\d+)$/m.exec(record)?.[1] ?? 0);
  rows.push({ file: file.replace(/^.*?(contracts\/)/, "$1"), found, hit });
}
const found = rows.reduce((s, r) => s + r.found, 0);
const hit = rows.reduce((s, r) => s + r.hit, 0);
const pct = found === 0 ? 0 : (100 * hit) / found;
for (const r of rows)
  console.log(`${r.file.padEnd(48)} ${((100 * r.hit) / Math.max(r.found, 1)).toFixed(2)}%`);
console.log(`contracts/ line coverage: ${pct.toFixed(2)}% (${hit}/${found} lines, floor ${FLOOR}%)`);
if (pct < FLOOR) {
  console.error(`Line coverage ${pct.toFixed(2)}% is below the ${FLOOR}% floor.`);
  process.exit(1);
}
