// Gas of the leveraged token's hot paths next to a plain OpenZeppelin ERC-4626 vault over the same
// USDT, measured in one run on the in-process network.
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse, HDNodeWallet } from "ethers";
import type { LeveragedToken, PlainVault } from "../../types/ethers-contracts/index.js";
import { deploySystem } from "../chain/deploy.ts";
import { deployTokenWithDesk } from "../chain/desk.ts";
import { signPermit } from "../chain/permit.ts";
import { PRICE, USDT, tokenConfig, tokenParams } from "../common/params.ts";

export interface GasReport {
  baseline: { deposit: number; depositNewHolder: number; redeem: number; transfer: number };
  token: { mint: number; mintNewHolder: number; redeem: number; rebalance: number; transfer: number };
  /** Forward pricing (the ForwardDesk): each request, fill and claim; fills per request. */
  desk: {
    requestDeposit: number;
    requestDepositNewController: number;
    /** A new controller's first request with a USDT permit: one transaction, no approval first. */
    requestDepositWithPermitNewController: number;
    /** The USDT approval a new controller sends before a plain request (what the permit saves). */
    approveNewController: number;
    requestRedeem: number;
    fill1: number;
    fill10: number;
    fill100: number;
    fillMixed: number;
    claimShares: number;
    claimUsdt: number;
  };
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
  const sys = await deploySystem(ethers, { tokens: [] });
  // The token's own deposit and redeem, as its desk calls them inside a fill: `dave` stands for the
  // desk (the only account the token mints for), so these are what an instant mint and redeem were.
  const roles = { treasury: admin.address, admin: admin.address, keeper: admin.address };
  const config = {
    ...tokenConfig(tokenParams("BTC", 3n, true), await sys.vault.getAddress(), roles),
    desk: dave.address,
  };
  const token = (await ethers.deployContract("LeveragedToken", [config])) as unknown as LeveragedToken;
  const core = token.connect(dave);
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
    await core.deposit(10_000n * USDT, who.address);
    await plain.connect(who).deposit(10_000n * USDT, who.address);
  }
  await core.deposit(10_000n * USDT, dave.address); // the desk holds the shares it redeems

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
  const mint = await gasOf("token.mint", core.deposit(1_000n * USDT, alice.address));
  const mintNewHolder = await gasOf("token.mintNewHolder", core.deposit(1_000n * USDT, carol.address));
  const redeem = await gasOf(
    "token.redeem",
    core.redeem((await token.balanceOf(dave.address)) / 4n, alice.address, dave.address),
  );
  const transfer = await gasOf(
    "token.transfer",
    token.connect(bob).transfer(alice.address, (await token.balanceOf(bob.address)) / 4n),
  );
  await sys.feeds.BTC.updateAnswer(88_000n * PRICE); // -12%: leverage leaves the [2x, 4x] band
  const [needed] = await token.rebalanceNeeded();
  if (!needed) throw new Error("expected the -12% move to need a rebalance");
  const rebalance = await gasOf("token.rebalance", token.connect(admin).rebalance());

  // forward pricing: the same token behind its desk
  const { token: fwd, desk } = await deployTokenWithDesk(
    ethers,
    await sys.vault.getAddress(),
    tokenParams("BTC", 3n, true),
    { treasury: admin.address, admin: admin.address, keeper: admin.address },
  );
  const deskAddress = await desk.getAddress();
  labels[(await fwd.getAddress()).toLowerCase()] = "token";
  labels[deskAddress.toLowerCase()] = "desk";
  let price = 88_000n * PRICE;
  /** A new account with gas money and `usdt` USDT, the desk allowed to take it (unless `approve` is false). */
  const fundedWallet = async (usdt: bigint, approve = true): Promise<HDNodeWallet> => {
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await ethers.provider.send("hardhat_setBalance", [w.address, "0xde0b6b3a7640000"]);
    await sys.usdt.mint(w.address, usdt);
    if (approve) await (await sys.usdt.connect(w).approve(deskAddress, usdt)).wait();
    return w;
  };
  const nextRound = async (): Promise<void> => {
    price += PRICE; // a new price round (a dollar higher, so every round is a new answer)
    await (await sys.feeds.BTC.updateAnswer(price)).wait();
  };
  await sys.usdt.mint(admin.address, 1_000_000n * USDT);
  for (const who of [admin, alice, bob]) {
    await sys.usdt.connect(who).approve(deskAddress, 2n ** 255n);
    await fwd.connect(who).approve(deskAddress, 2n ** 255n);
  }
  // warm: alice and bob hold shares through the desk, the treasury holds fee shares
  for (const who of [alice, bob])
    await desk.connect(who).requestDeposit(10_000n * USDT, who.address, who.address);
  await nextRound();
  await desk.connect(admin).fill();
  for (const who of [alice, bob]) {
    await desk.connect(who)["deposit(uint256,address)"](await desk.maxDeposit(who.address), who.address);
  }
  const requestDeposit = await gasOf(
    "desk.requestDeposit",
    desk.connect(alice).requestDeposit(1_000n * USDT, alice.address, alice.address),
  );
  const newcomer = await fundedWallet(1_000n * USDT);
  const requestDepositNewController = await gasOf(
    "desk.requestDepositNewController",
    desk.connect(newcomer).requestDeposit(1_000n * USDT, newcomer.address, newcomer.address),
  );
  const signer = await fundedWallet(1_000n * USDT, false);
  const approveNewController = await gasOf(
    "usdt.approveNewController",
    sys.usdt.connect(signer).approve(deskAddress, 1_000n * USDT),
  );
  await (await sys.usdt.connect(signer).approve(deskAddress, 0n)).wait();
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3_600n;
  const permit = await signPermit(signer, sys.usdt, deskAddress, 1_000n * USDT, deadline);
  const requestDepositWithPermitNewController = await gasOf(
    "desk.requestDepositWithPermitNewController",
    desk
      .connect(signer)
      .requestDepositWithPermit(1_000n * USDT, signer.address, deadline, permit.v, permit.r, permit.s),
  );
  await nextRound();
  await desk.connect(admin).fill();
  const claimShares = await gasOf(
    "desk.claimShares",
    desk.connect(alice)["deposit(uint256,address)"](await desk.maxDeposit(alice.address), alice.address),
  );
  const requestRedeem = await gasOf(
    "desk.requestRedeem",
    desk.connect(bob).requestRedeem((await fwd.balanceOf(bob.address)) / 4n, bob.address, bob.address),
  );
  await desk.connect(alice).requestDeposit(1_000n * USDT, alice.address, alice.address);
  await nextRound();
  const fillMixed = await gasOf("desk.fillMixed", desk.connect(admin).fill());
  const claimUsdt = await gasOf(
    "desk.claimUsdt",
    desk.connect(bob).redeem(await desk.maxRedeem(bob.address), bob.address, bob.address),
  );
  // batches of deposit requests, each from its own controller: gas per request
  const fillOf = async (n: number): Promise<number> => {
    for (let i = 0; i < n; ++i) {
      const w = await fundedWallet(100n * USDT);
      await desk.connect(w).requestDeposit(100n * USDT, w.address, w.address);
    }
    await nextRound();
    return await gasOf(`desk.fill${n}`, desk.connect(admin).fill());
  };
  const fill1 = await fillOf(1);
  const fill10 = await fillOf(10);
  const fill100 = await fillOf(100);
  return {
    baseline,
    token: { mint, mintNewHolder, redeem, rebalance, transfer },
    desk: {
      requestDeposit,
      requestDepositNewController,
      requestDepositWithPermitNewController,
      approveNewController,
      requestRedeem,
      fill1,
      fill10,
      fill100,
      fillMixed,
      claimShares,
      claimUsdt,
    },
  };
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

/** A mint and a redeem through the desk (request + its share of the fill + claim) next to the
 * instant ones, for a batch of 1, 10 and 100 requests. */
export function forwardCosts(r: GasReport): Record<string, Record<string, number>> {
  const d = r.desk;
  const row = (fill: number, n: number): Record<string, number> => ({
    "fill per request": Math.round(fill / n),
    "mint: request + fill share + claim": Math.round(d.requestDeposit + fill / n + d.claimShares),
    "instant mint": r.token.mint,
    "plain ERC-4626 deposit": r.baseline.deposit,
  });
  return {
    "batch of 1": row(d.fill1, 1),
    "batch of 10": row(d.fill10, 10),
    "batch of 100": row(d.fill100, 100),
  };
}
