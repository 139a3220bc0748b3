// What every `lt admin` command shares: the role check before sending (one sentence naming the
// account, the role and the contract), and sending one transaction with its gas estimate + 20%.
import { id, ZeroHash, type ContractTransactionReceipt, type ContractTransactionResponse } from "ethers";
import type { TypedContractMethod } from "../../types/ethers-contracts/common.ts";
import { gasLimitFrom } from "../chain/gas.ts";
import { CliError } from "./cliError.ts";

export const ROLES = {
  DEFAULT_ADMIN_ROLE: ZeroHash,
  KEEPER_ROLE: id("KEEPER_ROLE"),
  PAUSER_ROLE: id("PAUSER_ROLE"),
  DEPLOYER_ROLE: id("DEPLOYER_ROLE"),
  MINTER_ROLE: id("MINTER_ROLE"),
} as const;
export type RoleName = keyof typeof ROLES;

/** Any OpenZeppelin AccessControl contract. */
export interface HasRoles {
  hasRole(role: string, account: string): Promise<boolean>;
}

/**
 * Throws "the account A cannot <action>: it lacks ROLE on <where> (...)" unless `account` holds
 * `role` on `contract`.
 */
export async function requireRole(
  contract: HasRoles,
  role: RoleName,
  account: string,
  action: string,
  where: string,
): Promise<void> {
  if (await contract.hasRole(ROLES[role], account)) return;
  throw new CliError(
    `the account ${account} cannot ${action}: it lacks ${role} on ${where} (sign with an account that has it: LT_PRIVATE_KEY)`,
  );
}

/** Estimates, sends with the estimate + 20%, waits; returns the receipt. */
export async function sendTx<A extends unknown[], R>(
  method: TypedContractMethod<A, R, "nonpayable">,
  ...args: A
): Promise<ContractTransactionReceipt> {
  // the typed signature checks the caller's arguments; inside, the generic tuple is spread as is
  const call = method as unknown as {
    estimateGas(...a: unknown[]): Promise<bigint>;
    send(...a: unknown[]): Promise<ContractTransactionResponse>;
  };
  const gasLimit = gasLimitFrom(await call.estimateGas(...args));
  const tx = await call.send(...args, { gasLimit });
  const receipt = await tx.wait();
  if (!receipt) throw new CliError(`the node returned no receipt for ${tx.hash}`);
  return receipt;
}
