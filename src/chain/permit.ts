// EIP-2612 permits: an ERC-20 allowance signed off chain, so a request takes the USDT in the same
// transaction as the signature instead of after an approval of its own.
import { Signature, type Signer } from "ethers";

/** What a permit needs of the token: its EIP-712 domain (ERC-5267) and the owner's nonce. */
export interface PermitToken {
  eip712Domain(): Promise<[string, string, string, bigint, string, string, bigint[]]>;
  nonces(owner: string): Promise<bigint>;
}

/** EIP-2612's Permit type. */
export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** `signer`'s permit of `value` of `token` to `spender` until `deadline` (unix seconds). */
export async function signPermit(
  signer: Signer,
  token: PermitToken,
  spender: string,
  value: bigint,
  deadline: bigint,
): Promise<Signature> {
  const owner = await signer.getAddress();
  const [[, name, version, chainId, verifyingContract], nonce] = await Promise.all([
    token.eip712Domain(),
    token.nonces(owner),
  ]);
  const domain = { name, version, chainId, verifyingContract };
  const message = { owner, spender, value, nonce, deadline };
  return Signature.from(await signer.signTypedData(domain, PERMIT_TYPES, message));
}
