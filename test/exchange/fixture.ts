// The exchange on its own, as the exchange's tests deploy it: USDT, one BTC / USD feed and the
// MockPerpVault listing BTC on it. Each test file passes its own network connection's ethers.
import { encodeBytes32String, type ContractTransactionResponse } from "ethers";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { MockPerpVault, MockPriceFeed, MockUSDT } from "../../types/ethers-contracts/index.js";

export const BTC = encodeBytes32String("BTC");
/** The feed's first answer: 100,000 USD (8 decimals). */
export const BTC_START_PRICE = 100_000n * 10n ** 8n;

export interface BtcMarket {
  /** Seconds an answer stays fresh. */
  heartbeat: number;
  /** Funding rate per 8 hours (WAD). */
  fundingRate: bigint;
}

/**
 * USDT, a BTC / USD feed at BTC_START_PRICE pushing its answers to the exchange, and the exchange
 * listing BTC on it (no price impact), all deployed and administered by `admin`; no pool liquidity
 * and nobody funded yet. `added` is the listing's transaction.
 */
export async function btcExchange(ethers: HardhatEthers, admin: HardhatEthersSigner, market: BtcMarket) {
  const usdt = (await ethers.deployContract("MockUSDT", [admin.address])) as unknown as MockUSDT;
  const feed = (await ethers.deployContract("MockPriceFeed", [
    "BTC / USD",
    BTC_START_PRICE,
    admin.address,
  ])) as unknown as MockPriceFeed;
  const vault = (await ethers.deployContract("MockPerpVault", [
    await usdt.getAddress(),
    admin.address,
  ])) as unknown as MockPerpVault;
  await feed.setListener(await vault.getAddress(), BTC);
  const added: ContractTransactionResponse = await vault.addMarket(
    BTC,
    await feed.getAddress(),
    market.heartbeat,
    market.fundingRate,
    0,
  );
  return { usdt, feed, vault, added };
}
