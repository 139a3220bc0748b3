/// <reference lib="dom" />
// The injected browser wallet (EIP-1193: MetaMask, Rabby, the e2e test's): whether there is one,
// whether it is unlocked and connected to the page, and whether it is on the deployment's chain;
// each case one plain sentence.
import { BrowserProvider, type Eip1193Provider, type Signer } from "ethers";

export interface InjectedWallet extends Eip1193Provider {
  on?(event: string, listener: (...args: unknown[]) => void): void;
}

declare global {
  interface Window {
    ethereum?: InjectedWallet;
  }
}

export type WalletState =
  | { kind: "none"; sentence: string }
  | { kind: "locked"; sentence: string }
  | { kind: "wrong-chain"; sentence: string; chainId: number }
  | { kind: "error"; sentence: string }
  | { kind: "ready"; account: string; signer: Signer };

export function noWalletSentence(): string {
  return "No browser wallet found: the page is read-only. To mint and redeem, open it in a browser with a wallet such as MetaMask or Rabby.";
}

export function lockedSentence(): string {
  return "Your wallet is locked or has not connected this page yet: unlock it and press Connect wallet.";
}

export function wrongChainSentence(walletChain: number, chainId: number, network: string): string {
  return `Your wallet is on chain ${walletChain}, but this deployment (${network}) is on chain ${chainId}: switch the wallet to chain ${chainId} to trade. The tables still read the deployment's chain.`;
}

/** Where the wallet stands; `connect` asks it for accounts (a prompt in a real wallet). */
export async function walletState(chainId: number, network: string, connect: boolean): Promise<WalletState> {
  const injected = window.ethereum;
  if (injected === undefined) return { kind: "none", sentence: noWalletSentence() };
  try {
    const accounts = (await injected.request({
      method: connect ? "eth_requestAccounts" : "eth_accounts",
    })) as string[];
    const account = accounts[0];
    if (account === undefined) return { kind: "locked", sentence: lockedSentence() };
    const walletChain = Number(BigInt((await injected.request({ method: "eth_chainId" })) as string));
    if (walletChain !== chainId) {
      return {
        kind: "wrong-chain",
        sentence: wrongChainSentence(walletChain, chainId, network),
        chainId: walletChain,
      };
    }
    const signer = await new BrowserProvider(injected, chainId).getSigner(account);
    return { kind: "ready", account: await signer.getAddress(), signer };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 4001 || code === "ACTION_REJECTED")
      return {
        kind: "locked",
        sentence: "You declined the connection in your wallet: the page stays read-only.",
      };
    return { kind: "error", sentence: `The wallet did not answer: ${(e as Error).message}` };
  }
}

/** Asks the wallet to switch to `chainId` (EIP-3326). */
export async function switchChain(chainId: number): Promise<void> {
  await window.ethereum?.request({
    method: "wallet_switchEthereumChain",
    params: [{ chainId: "0x" + chainId.toString(16) }],
  });
}

/** Calls `listener` when the wallet's accounts or chain change. */
export function onWalletChange(listener: () => void): void {
  window.ethereum?.on?.("accountsChanged", listener);
  window.ethereum?.on?.("chainChanged", listener);
}
