// npm run bench:gas — prints the gas table and writes out/bench/gas.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { network } from "hardhat";
import { checkGas, measureGas } from "../src/bench/gas.ts";

const { ethers } = await network.create();
const report = await measureGas(ethers);
console.table({ baseline: report.baseline, token: report.token });
const checks = checkGas(report);
console.table(checks);
mkdirSync("out/bench", { recursive: true });
writeFileSync("out/bench/gas.json", JSON.stringify(report, null, 2) + "\n");
console.log("wrote out/bench/gas.json");
if (checks.some((c) => !c.ok)) console.log("some gas targets are not met (see the table above)");
