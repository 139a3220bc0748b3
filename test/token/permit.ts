// EIP-2612 permits signed by a test account, for the ERC-20s that take them (the token's shares and
// MockUSDT), with a nonce a test may pick: the domain (version 1) here, the Permit type from
// src/chain/permit.ts.
import { Signature, type Signer } from "ethers";
import { PERMIT_TYPES } from "../../src/chain/permit.ts";

export interface PermitRequest {
  /** The ERC-20's name (the domain's name) and address. */
  name: string;
  token: string;
  spender: string;
  value: bigint;
  deadline: number;
  nonce?: bigint;
}

/** `owner`'s signature of the permit, on the chain its provider is connected to. */
export async function signPermit(owner: Signer, r: PermitRequest): Promise<Signature> {
  const network = await owner.provider!.getNetwork();
  const domain = { name: r.name, version: "1", chainId: network.chainId, verifyingContract: r.token };
  return Signature.from(
    await owner.signTypedData(domain, PERMIT_TYPES, {
      owner: await owner.getAddress(),
      spender: r.spender,
      value: r.value,
      nonce: r.nonce ?? 0n,
      deadline: r.deadline,
    }),
  );
}
