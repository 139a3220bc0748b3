// The README's node commands: a `hardhat node` started as the README says must not listen on every
// interface with its unlocked accounts (issue 16), so every one it gives names --hostname 127.0.0.1.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const README = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");

/** Every `npx hardhat node` the README tells a user to run: in sh blocks and inline commands. */
function nodeCommands(text: string): string[] {
  const out: string[] = [];
  let inSh = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) inSh = line.trim() === "```sh";
    else if (inSh && line.includes("npx hardhat node")) out.push(line);
  }
  // inline: "start a node (`npx hardhat node ...`)"
  for (const m of text.matchAll(/start a node \(`(npx hardhat node[^`]*)`\)/g)) out.push(m[1]!);
  return out;
}

describe("README", function () {
  it("starts every hardhat node on 127.0.0.1 only", function () {
    const commands = nodeCommands(README);
    expect(commands.length).to.be.at.least(3);
    for (const c of commands) expect(c, c).to.include("npx hardhat node --hostname 127.0.0.1");
  });

  it("finds node commands in sh blocks and inline, so a bare one cannot slip past", function () {
    expect(nodeCommands("```sh\nnpx hardhat node &\n```\nstart a node (`npx hardhat node`)")).to.deep.equal([
      "npx hardhat node &",
      "npx hardhat node",
    ]);
  });
});
