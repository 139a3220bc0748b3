// A leveraged token with its ForwardDesk, deployed straight from a signer: the desk's address is
// known before the token is built (the signer's next nonce but one), so the token's immutable `desk`
// can name it and the desk's immutable `token` the token.
import { getCreateAddress } from "ethers";
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { ForwardDesk, LeveragedToken } from "../../types/ethers-contracts/index.js";
import { DESK, tokenConfig, type TokenParams } from "../common/params.ts";

export interface TokenWithDesk {
  token: LeveragedToken;
  desk: ForwardDesk;
}

export interface DeskRoles {
  treasury: string;
  admin: string;
  keeper: string;
}

export async function deployTokenWithDesk(
  ethers: HardhatEthers,
  vault: string,
  p: TokenParams,
  roles: DeskRoles,
  rules: typeof DESK = DESK,
): Promise<TokenWithDesk> {
  const [signer] = await ethers.getSigners();
  if (!signer) throw new Error("no signer available to deploy with");
  const nonce = await signer.getNonce();
  const deskAddress = getCreateAddress({ from: signer.address, nonce: nonce + 1 });
  const config = { ...tokenConfig(p, vault, roles), desk: deskAddress };
  const token = (await ethers.deployContract("LeveragedToken", [config], {
    nonce,
  })) as unknown as LeveragedToken;
  const desk = (await ethers.deployContract(
    "ForwardDesk",
    [await token.getAddress(), rules.fillDelay, rules.fillBounty],
    { nonce: nonce + 1 },
  )) as unknown as ForwardDesk;
  await token.waitForDeployment();
  await desk.waitForDeployment();
  if ((await desk.getAddress()) !== deskAddress) {
    throw new Error(`the desk landed at ${await desk.getAddress()}, not ${deskAddress} as its token expects`);
  }
  return { token, desk };
}
