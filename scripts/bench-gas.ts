// npm run bench:gas — prints the gas table and writes out/bench/gas.json.
// GAS_PROFILE=1 npm run bench:gas — also prints where each measured transaction's gas goes.
import { mkdirSync, writeFileSync } from "node:fs";
import { network } from "hardhat";
import { checkGas, forwardCosts, measureGas, type OnMeasured } from "../src/bench/gas.ts";
import { profileRows, profileTransaction, topOps } from "../src/bench/gasProfile.ts";
import { pinBlockTimes } from "../src/chain/clock.ts";
import { PATH_START } from "../src/feeds/paths.ts";

const connection = await network.create();
const { ethers } = connection;
// every transaction in a block of its own, one second after the last: the same gas at any hour
await pinBlockTimes(connection.provider, PATH_START + 1n);
const profile: OnMeasured | undefined =
  process.env.GAS_PROFILE === undefined
    ? undefined
    : async (name, hash, to, labels) => {
        const p = await profileTransaction(ethers.provider, hash, to, labels);
        if (process.env.GAS_PROFILE === "dump") {
          mkdirSync("out/bench/traces", { recursive: true });
          const trace: unknown = await ethers.provider.send("debug_traceTransaction", [
            hash,
            { enableMemory: false },
          ]);
          writeFileSync(`out/bench/traces/${name}.json`, JSON.stringify({ to, labels, trace }));
        }
        console.log(`\n${name}: ${p.gasUsed} gas`);
        console.table(profileRows(p));
        if (process.env.GAS_PROFILE === "ops") {
          for (const who of Object.keys(p.ops)) {
            console.log(`${name} — ${who}: costliest opcodes`);
            console.table(topOps(p, who));
          }
        }
      };
const report = await measureGas(ethers, profile);
console.table({ baseline: report.baseline, token: report.token });
console.table(report.desk);
console.table(forwardCosts(report));
const checks = checkGas(report);
console.table(checks);
mkdirSync("out/bench", { recursive: true });
writeFileSync("out/bench/gas.json", JSON.stringify(report, null, 2) + "\n");
console.log("wrote out/bench/gas.json");
if (checks.some((c) => !c.ok)) console.log("some gas targets are not met (see the table above)");
