// Gas of the leveraged token's hot paths next to a plain OpenZeppelin ERC-4626 vault over the same
// USDT, measured in one run on the in-process network.
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";
import type { PlainVault } from "../../types/ethers-contracts/index.js";
import { deploySystem } from "../chain/deploy.ts";
import { PRICE, USDT, tokenParams } from "../chain/params.ts";

export interface GasReport {
  baseline: { deposit: number; depositNewHolder: number; redeem: number; transfer: number };
  token: { mint: number; mintNewHolder: number; redeem: number; rebalance: number; transfer: number };
}

export const GAS_TARGETS = {
  mintVsDeposit: 2.0,
  redeemVsRedeem: 2.0,
  rebalance: 80_000,
  transferVsTransfer: 1.05,
};

/** Called with each measured transaction (for profiling): its name, hash and target. */
export type OnMeasured = (
  name: string,
  hash: string,
  to: string,
  labels: Record<string, string>,
) => void | Promise<void>;

export async function measureGas(ethers: HardhatEthers, onMeasured?: OnMeasured): Promise<GasReport> {
  const gasOf = async (name: string, tx: Promise<ContractTransactionResponse>): Promise<number> => {
    const receipt = await (await tx).wait();
    if (!receipt) throw new Error("transaction was not mined");
    await onMeasured?.(name, receipt.hash, receipt.to ?? "", labels);
    return Number(receipt.gasUsed);
  };

  const [admin, alice, bob, carol, dave] = await ethers.getSigners();
  if (!admin || !alice || !bob || !carol || !dave) throw new Error("need 5 signers");
  const sys = await deploySystem(ethers, { tokens: [tokenParams("BTC", 3n, true)] });
  const token = sys.tokens["BTC3L"]!;
  const plain = (await ethers.deployContract("PlainVault", [
    await sys.usdt.getAddress(),
  ])) as unknown as PlainVault;
  const labels: Record<string, string> = {
    [(await token.getAddress()).toLowerCase()]: "token",
    [(await plain.getAddress()).toLowerCase()]: "plainVault",
    [(await sys.usdt.getAddress()).toLowerCase()]: "usdt",
    [(await sys.vault.getAddress()).toLowerCase()]: "perpVault",
    [(await sys.feeds.BTC.getAddress()).toLowerCase()]: "feed",
  };
  for (const who of [alice, bob, carol, dave]) {
    await sys.usdt.mint(who.address, 1_000_000n * USDT);
    await sys.usdt.connect(who).approve(await token.getAddress(), 2n ** 255n);
    await sys.usdt.connect(who).approve(await plain.getAddress(), 2n ** 255n);
  }
  // Warm both: earlier holders exist, the treasury already holds fee shares and USDT.
  for (const who of [alice, bob]) {
    await token.connect(who)["deposit(uint256,address)"](10_000n * USDT, who.address);
    await plain.connect(who).deposit(10_000n * USDT, who.address);
  }

  const baseline = {
    deposit: await gasOf("baseline.deposit", plain.connect(alice).deposit(1_000n * USDT, alice.address)),
    depositNewHolder: await gasOf(
      "baseline.depositNewHolder",
      plain.connect(carol).deposit(1_000n * USDT, carol.address),
    ),
    redeem: await gasOf(
      "baseline.redeem",
      plain.connect(alice).redeem((await plain.balanceOf(alice.address)) / 4n, alice.address, alice.address),
    ),
    transfer: await gasOf(
      "baseline.transfer",
      plain.connect(bob).transfer(alice.address, (await plain.balanceOf(bob.address)) / 4n),
    ),
  };
  const mint = await gasOf(
    "token.mint",
    token.connect(alice)["deposit(uint256,address)"](1_000n * USDT, alice.address),
  );
  const mintNewHolder = await gasOf(
    "token.mintNewHolder",
    token.connect(carol)["deposit(uint256,address)"](1_000n * USDT, carol.address),
  );
  const redeem = await gasOf(
    "token.redeem",
    token
      .connect(alice)
      ["redeem(uint256,address,address)"](
        (await token.balanceOf(alice.address)) / 4n,
        alice.address,
        alice.address,
      ),
  );
  const transfer = await gasOf(
    "token.transfer",
    token.connect(bob).transfer(alice.address, (await token.balanceOf(bob.address)) / 4n),
  );
  await sys.feeds.BTC.updateAnswer(88_000n * PRICE); // -12%: leverage leaves the [2x, 4x] band
  const [needed] = await token.rebalanceNeeded();
  if (!needed) throw new Error("expected the -12% move to need a rebalance");
  const rebalance = await gasOf("token.rebalance", token.connect(admin).rebalance());
  return { baseline, token: { mint, mintNewHolder, redeem, rebalance, transfer } };
}

export interface GasCheck {
  name: string;
  measured: string;
  target: string;
  ok: boolean;
}

export function checkGas(r: GasReport): GasCheck[] {
  const ratio = (a: number, b: number): number => a / b;
  const t = GAS_TARGETS;
  return [
    {
      name: "mint / baseline deposit",
      measured: ratio(r.token.mint, r.baseline.deposit).toFixed(3) + "x",
      target: `<= ${t.mintVsDeposit}x`,
      ok: ratio(r.token.mint, r.baseline.deposit) <= t.mintVsDeposit,
    },
    {
      name: "mint (new holder) / baseline deposit (new holder)",
      measured: ratio(r.token.mintNewHolder, r.baseline.depositNewHolder).toFixed(3) + "x",
      target: `<= ${t.mintVsDeposit}x`,
      ok: ratio(r.token.mintNewHolder, r.baseline.depositNewHolder) <= t.mintVsDeposit,
    },
    {
      name: "redeem / baseline redeem",
      measured: ratio(r.token.redeem, r.baseline.redeem).toFixed(3) + "x",
      target: `<= ${t.redeemVsRedeem}x`,
      ok: ratio(r.token.redeem, r.baseline.redeem) <= t.redeemVsRedeem,
    },
    {
      name: "rebalance",
      measured: String(r.token.rebalance),
      target: `<= ${t.rebalance}`,
      ok: r.token.rebalance <= t.rebalance,
    },
    {
      name: "transfer / baseline transfer",
      measured: ratio(r.token.transfer, r.baseline.transfer).toFixed(3) + "x",
      target: `<= ${t.transferVsTransfer}x`,
      ok: ratio(r.token.transfer, r.baseline.transfer) <= t.transferVsTransfer,
    },
  ];
}
