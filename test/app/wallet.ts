// An injected EIP-1193 test wallet for the browser test: the page sees `window.ethereum` as MetaMask
// would show it; every request crosses to this process, which signs with a dev key (transactions,
// EIP-712 permits) and forwards the rest to the node as raw JSON-RPC, errors (revert data included)
// passed back as a wallet passes them.
import { JsonRpcProvider, Network, toQuantity, Wallet } from "ethers";
import type { BrowserContext } from "playwright-core";

export interface TestWalletOptions {
  /** Answer eth_accounts and eth_requestAccounts with no account (a locked wallet). */
  locked?: boolean;
  /** The chain id the wallet says it is on (default: the node's). */
  chainId?: number;
}

interface RpcAnswer {
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

async function forward(url: string, method: string, params: unknown[]): Promise<RpcAnswer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return (await res.json()) as RpcAnswer;
}

/** What a thrown ethers error becomes on the wire: code, message and any revert data. */
function asRpcError(e: unknown): RpcAnswer {
  const x = e as { code?: unknown; message?: string; data?: unknown; info?: { error?: { data?: unknown } } };
  return {
    error: {
      code: x.code === "ACTION_REJECTED" ? 4001 : -32000,
      message: x.message ?? String(e),
      data: x.data ?? x.info?.error?.data,
    },
  };
}

export class TestWallet {
  readonly requests: string[] = [];
  private readonly signer: Wallet;

  constructor(
    key: string,
    chainId: number,
    private readonly url: string,
    private readonly options: TestWalletOptions = {},
  ) {
    // no cache: a nonce read right after the last transaction was mined must see it
    const provider = new JsonRpcProvider(url, Network.from(chainId), {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    this.signer = new Wallet(key, provider);
  }

  close(): void {
    this.signer.provider?.destroy();
  }

  get address(): string {
    return this.signer.address;
  }

  async handle(method: string, params: unknown[]): Promise<RpcAnswer> {
    this.requests.push(method);
    try {
      switch (method) {
        case "eth_accounts":
        case "eth_requestAccounts":
          return { result: this.options.locked ? [] : [this.signer.address] };
        case "eth_chainId":
          if (this.options.chainId !== undefined) return { result: toQuantity(this.options.chainId) };
          return forward(this.url, method, params);
        case "eth_sendTransaction": {
          const tx = params[0] as { to?: string; data?: string; value?: string; gas?: string };
          const sent = await this.signer.sendTransaction({
            to: tx.to,
            data: tx.data,
            value: tx.value === undefined ? 0n : BigInt(tx.value),
            ...(tx.gas === undefined ? {} : { gasLimit: BigInt(tx.gas) }),
          });
          return { result: sent.hash };
        }
        case "eth_signTypedData_v4": {
          const typed = JSON.parse(String(params[1])) as {
            domain: Record<string, unknown>;
            types: Record<string, { name: string; type: string }[]>;
            message: Record<string, unknown>;
          };
          const { EIP712Domain: _domain, ...types } = typed.types;
          return { result: await this.signer.signTypedData(typed.domain, types, typed.message) };
        }
        case "personal_sign":
          return { result: await this.signer.signMessage(String(params[0])) };
        default:
          return forward(this.url, method, params);
      }
    } catch (e) {
      return asRpcError(e);
    }
  }

  /** Injects the wallet into every page of `context` as window.ethereum. */
  async inject(context: BrowserContext): Promise<void> {
    await context.exposeFunction("__testWallet", (method: string, params: unknown[]) =>
      this.handle(method, params ?? []),
    );
    await context.addInitScript(() => {
      type Answer = { result?: unknown; error?: { code: number; message: string; data?: unknown } };
      const call = (window as unknown as { __testWallet: (m: string, p: unknown[]) => Promise<Answer> })
        .__testWallet;
      (window as unknown as { ethereum: unknown }).ethereum = {
        isTestWallet: true,
        async request(args: { method: string; params?: unknown[] }) {
          const answer = await call(args.method, args.params ?? []);
          if (answer.error !== undefined) {
            throw Object.assign(new Error(answer.error.message), answer.error);
          }
          return answer.result;
        },
        on() {},
        removeListener() {},
      };
    });
  }
}
