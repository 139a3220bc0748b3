// Plain JSON-RPC connections for the long-running programs (keeper, feeder): no Hardhat runtime, so
// they start fast and run against any node. Network names match hardhat.config.ts.
import { JsonRpcProvider, Network, Wallet, type Signer } from "ethers";

/** The RPC URL of a network name: `localhost` honours RPC_URL, `anvil` ANVIL_URL, others need RPC_URL. */
export function rpcUrlFor(network: string, env: NodeJS.ProcessEnv = process.env): string {
  if (/^https?:\/\//.test(network)) {
    throw new Error(
      `--network takes a name (its address book is deployments/<name>.json); pass the URL with --rpc`,
    );
  }
  // an empty variable counts as unset (RPC_URL= npm run ...)
  const rpcUrl = env.RPC_URL || undefined;
  if (network === "localhost") return rpcUrl ?? "http://127.0.0.1:8545";
  if (network === "anvil") return env.ANVIL_URL || "http://127.0.0.1:8546";
  if (rpcUrl !== undefined) return rpcUrl;
  throw new Error(`no RPC URL for network "${network}": pass --rpc <url> or set RPC_URL`);
}

/**
 * A provider pinned to `chainId` (so it never loops on network detection while a node is down and
 * never prints its own retry messages), polling every `pollingMs`, caching nothing.
 */
export function connectRpc(url: string, chainId: number, pollingMs = 1000): JsonRpcProvider {
  const provider = new JsonRpcProvider(url, undefined, {
    staticNetwork: Network.from(chainId),
    pollingInterval: pollingMs,
    batchMaxCount: 1,
    // every call asks the node: ethers otherwise answers a request it was asked in the last 250 ms
    // from a cache, and a nonce manager reset right after a mined transaction got the nonce that
    // transaction had used ("nonce has already been used", seen with two keepers at once)
    cacheTimeout: -1,
  });
  return provider;
}

/** Reads the chain id with one raw request (throws a transient error while the node is down). */
export async function fetchChainId(url: string, timeoutMs = 5000): Promise<number> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { result?: string; error?: { message?: string } };
  if (body.result === undefined)
    throw new Error(`eth_chainId failed at ${url}: ${body.error?.message ?? res.status}`);
  return Number(body.result);
}

/** A private key's wallet, or the node's unlocked account `index` (hardhat node, anvil); `keyEnv`
 * names the environment variable the program reads a key from, for the error message. */
export async function signerFor(
  provider: JsonRpcProvider,
  key: string | undefined,
  index: number,
  keyEnv: string,
): Promise<Signer> {
  if (key !== undefined && key !== "") {
    try {
      return new Wallet(key.startsWith("0x") ? key : `0x${key}`, provider);
    } catch {
      throw new Error("the private key is not a 32-byte hex string");
    }
  }
  const accounts = (await provider.send("eth_accounts", [])) as string[];
  if (accounts[index] === undefined) {
    throw new Error(`the node has no unlocked account #${index}; pass a private key with --key or ${keyEnv}`);
  }
  return provider.getSigner(index);
}
