// EIP-2612 permits signed by a test account, for the ERC-20s that take them (the token's shares and
// MockUSDT): the Permit type and the domain (version 1) in one place.
import { Signature, type Signer } from "ethers";

const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

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
