/// <reference lib="dom" />
// The traders' page (issue 18): the tokens table, a token's page with its chart, explanation,
// rebalances and trade panel, and the wallet's position. Every number comes from the project's own
// readers (src/cli, src/chain, src/engine) run in the browser against the server's /rpc, and is
// written with the CLI's formatting; every failure is the CLI's sentence.
import { formatUnits, parseUnits, type Signer } from "ethers";
import type { Context } from "../../cli/context.ts";
import { tokenOf, usdtOf } from "../../cli/context.ts";
import { explainError, STATE, STATE_NAMES } from "../../cli/errors.ts";
import {
  formatChange,
  formatLeverage,
  formatPercent,
  formatPrice,
  formatShares,
  formatTime,
  formatUsdt,
  parseAmount,
  SHARE_DECIMALS,
  shortAddress,
  USDT_DECIMALS,
} from "../../cli/format.ts";
import type { Side } from "../../cli/desk.ts";
import type { HistoryEntry } from "../../cli/history.ts";
import { positionCommand } from "../../cli/position.ts";
import type { TokenInfo } from "../../cli/tokens.ts";
import { formatPerToken, perTokenJson } from "../../cli/trueNav.ts";
import { withChainTokens } from "../../chain/factoryTokens.ts";
import { CONFIG_PATH, type AppConfig } from "../config.ts";
import {
  blockAtOrBefore,
  canMint,
  canRedeem,
  DAY,
  idealComparison,
  pageContext,
  readCostsPaid,
  readSeries,
  type CostsPaid,
  readTokenHistory,
  readTokenRow,
  type TokenRow,
} from "../reads.ts";
import {
  cancelRequest,
  claimAll,
  DEADLINE_MINUTES,
  fillLines,
  findFill,
  lastPlaced,
  parseDeadlineMinutes,
  quoteTrade,
  readRequests,
  requestMint,
  requestRedeem,
  type Placed,
} from "../trade.ts";
import { gauge, navChart } from "./charts.ts";
import { fill, h, type Child } from "./dom.ts";
import { onWalletChange, switchChain, walletState, type WalletState } from "./wallet.ts";

const POLL_MS = 1500;

interface Page {
  config: AppConfig;
  ctx: Context;
  startBlock: number;
  wallet: WalletState;
  /** The latest block the current view shows, and the view (the location's hash). */
  shown: number;
  shownRoute: string;
  busy: boolean;
  /** Requests this page placed, by symbol, to find their fill and show its costs. */
  placed: Map<string, Placed>;
}

let page: Page | undefined;

function problem(sentence: string): void {
  fill("problem", sentence);
  document.getElementById("problem")?.removeAttribute("hidden");
}

function clearProblem(): void {
  document.getElementById("problem")?.setAttribute("hidden", "");
}

function message(e: unknown, symbol?: string): string {
  return explainError(e, { rpcUrl: page?.config.rpcUrl, symbol }).message;
}

function signed(v: bigint): string {
  return (v > 0n ? "+" : "") + formatUsdt(v);
}

function route(): { view: "tokens" } | { view: "token"; symbol: string } | { view: "position" } {
  const hash = location.hash.replace(/^#\/?/, "");
  if (hash.startsWith("token/")) return { view: "token", symbol: decodeURIComponent(hash.slice(6)) };
  if (hash === "position") return { view: "position" };
  return { view: "tokens" };
}

// ---------------------------------------------------------------- the wallet

function renderWallet(p: Page): void {
  const w = p.wallet;
  const connect = h(
    "button",
    { id: "connect", type: "button", onclick: () => void refreshWallet(true) },
    "Connect wallet",
  );
  if (w.kind === "ready") {
    fill(
      "wallet",
      h("span", { id: "account", "data-account": w.account }, `Wallet ${shortAddress(w.account)}`),
    );
  } else if (w.kind === "wrong-chain") {
    const chainId = p.config.book!.chainId;
    fill(
      "wallet",
      h("span", { class: "notice", id: "wallet-sentence" }, w.sentence),
      h(
        "button",
        { type: "button", onclick: () => void switchChain(chainId).then(() => refreshWallet(false)) },
        `Switch to chain ${chainId}`,
      ),
    );
  } else {
    fill(
      "wallet",
      h("span", { class: "notice", id: "wallet-sentence" }, w.sentence),
      w.kind === "none" ? null : connect,
    );
  }
}

async function refreshWallet(connect: boolean): Promise<void> {
  if (page === undefined) return;
  page.wallet = await walletState(page.config.book!.chainId, page.config.network, connect);
  renderWallet(page);
  page.shown = -1;
  void refresh();
}

function signerOrSentence(p: Page): Signer {
  const w = p.wallet;
  if (w.kind === "ready") return w.signer;
  throw new Error(w.sentence);
}

// ---------------------------------------------------------------- the tokens table

function stateCell(info: TokenInfo): string {
  switch (info.state) {
    case STATE.Active:
      return info.mintPaused ? "Active, minting paused" : "Active";
    case STATE.Delisting:
      return `Delisting on ${formatTime(info.delistingTime)}`;
    case STATE.Settled:
      return `Settled at ${info.nav === null ? "n/a" : formatPerToken(info.nav)} USDT`;
    case STATE.Depleted:
      return "Depleted";
    default:
      return STATE_NAMES[info.state] ?? `state ${info.state}`;
  }
}

function premiumText(premium: bigint): string {
  if (formatPercent(premium >= 0n ? premium : -premium) === "0%") return "at NAV (within 0.0001%)";
  return `${premium >= 0n ? "+" : "-"}${formatPercent(premium >= 0n ? premium : -premium)} ${premium >= 0n ? "premium" : "discount"}`;
}

function tokenRow(r: TokenRow): HTMLTableRowElement {
  const i = r.info;
  const side = `${formatLeverage(i.targetLeverage).replace(".00", "")} ${i.isLong ? "long" : "short"} ${i.market}`;
  const change = r.navDayAgo === null || i.nav === null ? "n/a" : formatChange(i.nav, r.navDayAgo);
  return h(
    "tr",
    { "data-symbol": r.symbol },
    h(
      "th",
      { scope: "row" },
      h("a", { href: `#/token/${r.symbol}` }, r.symbol),
      h("div", { class: "sub" }, side),
    ),
    h(
      "td",
      {
        class: "num nav",
        "data-value": i.nav === null ? "" : perTokenJson(i.nav),
        title: i.nav === null ? (i.navError ?? "") : `${perTokenJson(i.nav)} USDT`,
      },
      i.nav === null ? "n/a" : formatPerToken(i.nav),
    ),
    h(
      "td",
      {
        class: "num change",
        title: r.navDayAgo === null ? "the chain has no block 24 h before this one" : "",
      },
      change,
    ),
    h(
      "td",
      { class: "lev" },
      gauge({
        leverage: i.live?.leverage ?? null,
        min: i.minLeverage,
        max: i.maxLeverage,
        target: i.targetLeverage,
        ripcord: i.ripcordLeverage,
      }),
      h("span", { class: "num leverage" }, i.live === null ? "n/a" : formatLeverage(i.live.leverage)),
    ),
    h("td", { class: "state" }, stateCell(i)),
    h(
      "td",
      { class: "num pool", "data-value": r.pool === null ? "" : perTokenJson(r.pool.spot) },
      r.pool === null ? (r.poolError ?? "no pool") : formatPerToken(r.pool.spot),
    ),
    h("td", { class: "num premium" }, r.pool?.premium == null ? "n/a" : premiumText(r.pool.premium)),
    h(
      "td",
      { class: "fees" },
      `mint ${formatPercent(i.mintFee)}, redeem ${formatPercent(i.redeemFee)}, management ${formatPercent(i.managementFee)}/yr`,
    ),
  );
}

async function readRows(p: Page, latest: number): Promise<TokenRow[]> {
  const block = await p.ctx.provider.getBlock(latest);
  const dayAgo = block === null ? null : await blockAtOrBefore(p.ctx.provider, block.timestamp - DAY, latest);
  return Promise.all(Object.keys(p.ctx.book.tokens).map((symbol) => readTokenRow(p.ctx, symbol, dayAgo)));
}

async function showTokens(p: Page, latest: number): Promise<void> {
  const rows = await readRows(p, latest);
  fill(
    "view",
    h("h2", {}, "Tokens"),
    h(
      "table",
      { id: "tokens", "data-block": latest },
      h(
        "caption",
        {},
        `Every token of the factory at block ${latest}. NAV in USDT per token; the pool is the token's Uniswap V2 pool.`,
      ),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...[
            "Token",
            "NAV (USDT)",
            "24 h",
            "Leverage (band, target, ripcord)",
            "State",
            "Pool price (USDT)",
            "Pool vs NAV",
            "Fees",
          ].map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h("tbody", {}, ...rows.map(tokenRow)),
    ),
    h(
      "p",
      { class: "legend-text" },
      "On the gauge the green span is the rebalancing band, the dark green tick the target, the red tick the ripcord (anyone may rebalance past it), and the triangle the token's leverage now.",
    ),
  );
}

// ---------------------------------------------------------------- a token's page

function tokenSkeleton(p: Page, symbol: string): void {
  const account = p.wallet.kind === "ready" ? p.wallet.account : null;
  fill(
    "view",
    h("p", {}, h("a", { href: "#/" }, "← All tokens")),
    h("h2", { id: "token-title" }, symbol),
    h("section", { id: "token-summary", "aria-label": `${symbol} now` }),
    h(
      "section",
      { id: "trade", "aria-labelledby": "trade-title" },
      h("h3", { id: "trade-title" }, "Trade"),
      tradeForm(p, symbol, account),
      h("div", { id: "quote", "aria-live": "polite" }),
      h("div", { id: "trade-status", role: "status", "aria-live": "polite" }),
      h("div", { id: "requests" }),
    ),
    h(
      "section",
      { id: "chart-box", "aria-labelledby": "chart-title" },
      h("h3", { id: "chart-title" }, "NAV against the underlying"),
      h("div", { id: "chart" }),
    ),
    h(
      "section",
      { "aria-labelledby": "explain-title" },
      h("h3", { id: "explain-title" }, "What happened, in words"),
      h("div", { id: "explain" }),
    ),
    h(
      "section",
      { "aria-labelledby": "history-title" },
      h("h3", { id: "history-title" }, "Rebalances"),
      h("div", { id: "history" }),
    ),
    h(
      "section",
      { "aria-labelledby": "costs-title" },
      h("h3", { id: "costs-title" }, "Funding and fees paid"),
      h("div", { id: "costs" }),
    ),
  );
}

function tradeForm(p: Page, symbol: string, account: string | null): HTMLFormElement {
  const form = h(
    "form",
    { id: "trade-form", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", {}, "Side"),
      h(
        "label",
        {},
        h("input", { type: "radio", name: "side", value: "deposit", checked: true }),
        " Mint (pay USDT)",
      ),
      h(
        "label",
        {},
        h("input", { type: "radio", name: "side", value: "redeem" }),
        ` Redeem (give ${symbol})`,
      ),
    ),
    h("label", { for: "amount", id: "amount-label" }, "Amount in USDT"),
    h("input", {
      id: "amount",
      name: "amount",
      inputmode: "decimal",
      autocomplete: "off",
      placeholder: "100",
      "aria-describedby": "amount-help",
    }),
    h(
      "p",
      { id: "amount-help", class: "help" },
      "No slippage limit applies: a request fills at the next price round's NAV, which nobody knows yet (as in lt mint).",
    ),
    h(
      "div",
      { id: "deadline-box" },
      h("label", { for: "deadline" }, "Deadline (minutes)"),
      h("input", {
        id: "deadline",
        name: "deadline",
        type: "number",
        inputmode: "numeric",
        min: String(DEADLINE_MINUTES.min),
        max: String(DEADLINE_MINUTES.max),
        step: "1",
        value: String(DEADLINE_MINUTES.default),
        autocomplete: "off",
        "aria-describedby": "deadline-help",
      }),
      h(
        "p",
        { id: "deadline-help", class: "help" },
        `How long the USDT permit you sign stays valid, in chain time (lt mint --deadline): ${DEADLINE_MINUTES.min} to ${DEADLINE_MINUTES.max} minutes.`,
      ),
    ),
    h("button", { id: "trade-submit", type: "submit", disabled: account === null }, "Place mint request"),
    account === null
      ? h("p", { class: "help" }, "Connect a wallet to trade (see the top of the page).")
      : null,
  );
  const side = () =>
    (form.elements.namedItem("side") as RadioNodeList).value === "redeem" ? "redeem" : "deposit";
  const amountInput = form.querySelector<HTMLInputElement>("#amount")!;
  const deadlineInput = form.querySelector<HTMLInputElement>("#deadline")!;
  let timer: number | undefined;
  const requote = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void showQuote(p, symbol, side(), amountInput.value), 250);
  };
  form.addEventListener("change", () => {
    const redeem = side() === "redeem";
    form.querySelector("#amount-label")!.textContent = redeem
      ? `Amount in ${symbol} (or "all")`
      : "Amount in USDT";
    form.querySelector("#trade-submit")!.textContent = redeem ? "Place redeem request" : "Place mint request";
    // a redeem signs no permit: its deadline would mean nothing
    form.querySelector<HTMLElement>("#deadline-box")!.hidden = redeem;
    requote();
  });
  amountInput.addEventListener("input", requote);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void placeRequest(p, symbol, side(), amountInput.value, deadlineInput);
  });
  return form;
}

async function parseTradeAmount(
  p: Page,
  symbol: string,
  side: "deposit" | "redeem",
  text: string,
): Promise<bigint> {
  if (side === "deposit") return parseAmount(text, USDT_DECIMALS, "USDT");
  if (text.trim().toLowerCase() === "all") {
    const w = p.wallet;
    if (w.kind !== "ready") throw new Error(`"all" needs a connected wallet`);
    const all = await tokenOf(p.ctx, symbol).balanceOf(w.account);
    if (all === 0n) throw new Error(`you hold no ${symbol} to redeem`);
    return all;
  }
  return parseAmount(text, SHARE_DECIMALS, symbol);
}

async function showQuote(p: Page, symbol: string, side: "deposit" | "redeem", text: string): Promise<void> {
  if (text.trim() === "") {
    fill("quote");
    return;
  }
  try {
    const amount = await parseTradeAmount(p, symbol, side, text);
    const nav = (await readTokenRow(p.ctx, symbol, null)).info.nav;
    const q = await quoteTrade(p.ctx, symbol, side, amount, nav);
    const mint = side === "deposit";
    const out = (v: bigint) => (mint ? `${formatShares(v)} ${symbol}` : `${formatUsdt(v)} USDT`);
    const rows: [string, Child, string][] = [
      ["Estimate at today's price", out(q.estimate), "estimate"],
      [
        mint ? "Mint fee" : "Redeem fee",
        `${formatUsdt(q.costs.fee)} USDT (paid in ${symbol} to the treasury)`,
        "fee",
      ],
      [
        "Trading cost",
        `${formatUsdt(q.costs.tradingCost)} USDT (the exchange's taker fee on the position's change)`,
        "trading",
      ],
      ["Price impact", `${formatUsdt(q.costs.priceImpact)} USDT`, "impact"],
    ];
    if (q.pool !== null && q.poolOut !== null && nav !== null) {
      const premium = q.pool.premium;
      rows.push([
        "Pool price",
        `${formatPerToken(q.pool.spot)} USDT next to a NAV of ${formatPerToken(nav)}${premium === null ? "" : ` (${premiumText(premium)})`}`,
        "pool",
      ]);
      const poolBetter = q.poolOut > q.estimate;
      rows.push([
        mint ? "Buy on the pool instead" : "Sell on the pool instead",
        `${out(q.poolOut)} now (Uniswap's 0.3% fee included): ${
          poolBetter
            ? mint
              ? "buying on the pool is cheaper"
              : "selling on the pool pays more"
            : mint
              ? "minting is cheaper"
              : "redeeming pays more"
        }`,
        "venue",
      ]);
    }
    fill(
      "quote",
      h(
        "dl",
        { class: "quote" },
        ...rows.flatMap(([k, v, id]) => [h("dt", {}, k), h("dd", { "data-q": id }, v)]),
      ),
    );
  } catch (e) {
    fill("quote", h("p", { class: "error", role: "alert" }, message(e, symbol)));
  }
}

async function placeRequest(
  p: Page,
  symbol: string,
  side: "deposit" | "redeem",
  text: string,
  deadlineInput: HTMLInputElement,
): Promise<void> {
  const button = document.querySelector<HTMLButtonElement>("#trade-submit");
  if (button) button.disabled = true;
  deadlineInput.removeAttribute("aria-invalid");
  try {
    let deadlineSeconds = 0;
    if (side === "deposit") {
      try {
        deadlineSeconds = parseDeadlineMinutes(deadlineInput.value);
      } catch (e) {
        deadlineInput.setAttribute("aria-invalid", "true");
        deadlineInput.focus();
        throw e;
      }
    }
    const signer = signerOrSentence(p);
    const amount = await parseTradeAmount(p, symbol, side, text);
    fill("trade-status", "Waiting for your wallet…");
    const placed =
      side === "deposit"
        ? await requestMint(p.ctx, signer, symbol, amount, deadlineSeconds)
        : await requestRedeem(p.ctx, signer, symbol, amount);
    p.placed.set(symbol, placed);
    const what =
      side === "deposit"
        ? `a mint of ${symbol} for ${formatUsdt(amount)} USDT`
        : `a redeem of ${formatShares(amount)} ${symbol}`;
    fill(
      "trade-status",
      h(
        "p",
        {
          id: "placed",
          "data-tx": placed.tx,
          "data-block": placed.block,
          "data-deadline": placed.permitDeadline?.toString() ?? "",
        },
        `Requested ${what} in block ${placed.block}${placed.permitDeadline === null ? "" : ` (USDT permit signed until ${formatTime(placed.permitDeadline)}, chain time, and taken in the request: one transaction)`}. The keeper fills it at the next price round; then claim it here.`,
      ),
    );
    p.shown = -1;
    void refresh();
  } catch (e) {
    fill("trade-status", h("p", { class: "error", role: "alert" }, message(e, symbol)));
  } finally {
    if (button) button.disabled = p.wallet.kind !== "ready";
  }
}

/** The fill's NAV and the request's share of its fee and trading cost (lt mint's lines), or null. */
async function fillCosts(p: Page, symbol: string, account: string, side: Side): Promise<Child> {
  const session = p.placed.get(symbol);
  const placed =
    session?.side === side ? session : await lastPlaced(p.ctx, symbol, account, side, p.startBlock);
  if (placed === undefined) return null;
  const report = await findFill(p.ctx, placed);
  if (report === undefined) return null;
  return h(
    "dl",
    {
      id: `fill-costs-${side === "deposit" ? "mint" : "redeem"}`,
      class: "fill-costs",
      "data-nav": perTokenJson(report.navAfter),
      "data-block": report.block,
      "data-found": session?.side === side ? "session" : "chain",
    },
    ...fillLines(placed, report).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

async function showRequests(p: Page, symbol: string): Promise<void> {
  const w = p.wallet;
  if (w.kind !== "ready" || p.ctx.book.desks?.[symbol] === undefined) {
    fill("requests");
    return;
  }
  const r = await readRequests(p.ctx, symbol, w.account);
  const items: Child[] = [];
  if (r.pendingUsdt > 0n)
    items.push(
      h(
        "li",
        { id: "pending-mint" },
        `Mint for ${formatUsdt(r.pendingUsdt)} USDT: waiting for the next price round${r.fillDue ? " (a new round has come: the keeper fills it now)" : ""}`,
      ),
    );
  if (r.pendingShares > 0n)
    items.push(
      h(
        "li",
        { id: "pending-redeem" },
        `Redeem of ${formatShares(r.pendingShares)} ${symbol}: waiting for the next price round${r.fillDue ? " (a new round has come: the keeper fills it now)" : ""}`,
      ),
    );
  if (r.claimableShares > 0n)
    items.push(
      h(
        "li",
        { id: "claimable-mint" },
        `Filled: ${formatShares(r.claimableShares)} ${symbol} to claim for ${formatUsdt(r.claimableSharesUsdt)} USDT`,
      ),
    );
  if (r.claimableUsdt > 0n)
    items.push(
      h(
        "li",
        { id: "claimable-redeem" },
        `Filled: ${formatUsdt(r.claimableUsdt)} USDT to claim for ${formatShares(r.claimableUsdtShares)} ${symbol}`,
      ),
    );
  if (r.refundableUsdt > 0n || r.refundableShares > 0n)
    items.push(
      h(
        "li",
        {},
        `Refused by the fill: ${formatUsdt(r.refundableUsdt)} USDT and ${formatShares(r.refundableShares)} ${symbol} to take back`,
      ),
    );
  const claimable =
    r.claimableShares > 0n || r.claimableUsdt > 0n || r.refundableUsdt > 0n || r.refundableShares > 0n;
  const pending = r.pendingUsdt > 0n || r.pendingShares > 0n;
  // each filled side's share of its fill: the request this page placed, else the wallet's last one
  // found on the chain (a reload, another tab, lt)
  const costs = await Promise.all(
    (["deposit", "redeem"] as const)
      .filter((side) => (side === "deposit" ? r.claimableShares > 0n : r.claimableUsdt > 0n))
      .map((side) => fillCosts(p, symbol, w.account, side).catch(() => null)),
  );
  fill(
    "requests",
    items.length === 0 ? null : h("h4", {}, "Your requests"),
    items.length === 0 ? null : h("ul", {}, ...items),
    ...costs,
    claimable
      ? h("button", { id: "claim", type: "button", onclick: () => void claim(p, symbol) }, "Claim")
      : null,
    pending && !r.fillDue
      ? h(
          "button",
          {
            id: "cancel",
            type: "button",
            onclick: () => void cancel(p, symbol, r.pendingUsdt > 0n ? "deposit" : "redeem"),
          },
          "Cancel request",
        )
      : null,
  );
}

/** One line of what a claim did; its amounts ride as attributes too (exact decimals), for scripts and tests. */
function claimedLine(id: string, text: string, done: { shares?: bigint; usdt?: bigint; tx?: string }): Child {
  return h(
    "p",
    {
      id,
      "data-shares": done.shares === undefined ? undefined : formatUnits(done.shares, SHARE_DECIMALS),
      "data-usdt": done.usdt === undefined ? undefined : formatUnits(done.usdt, USDT_DECIMALS),
      "data-tx": done.tx,
    },
    text,
  );
}

async function claim(p: Page, symbol: string): Promise<void> {
  try {
    const c = await claimAll(p.ctx, signerOrSentence(p), symbol);
    fill(
      "trade-status",
      c.minted &&
        claimedLine(
          "claimed-mint",
          `Minted ${formatShares(c.minted.shares)} ${symbol} for ${formatUsdt(c.minted.usdt)} USDT.`,
          c.minted,
        ),
      c.redeemed &&
        claimedLine(
          "claimed-redeem",
          `Redeemed ${formatShares(c.redeemed.shares)} ${symbol} for ${formatUsdt(c.redeemed.usdt)} USDT.`,
          c.redeemed,
        ),
      c.returnedUsdt !== undefined &&
        claimedLine("returned-usdt", `${formatUsdt(c.returnedUsdt)} USDT of a refused mint returned.`, {
          usdt: c.returnedUsdt,
        }),
      c.returnedShares !== undefined &&
        claimedLine(
          "returned-shares",
          `${formatShares(c.returnedShares)} ${symbol} of a refused redeem returned.`,
          { shares: c.returnedShares },
        ),
    );
    p.placed.delete(symbol);
  } catch (e) {
    fill("trade-status", h("p", { class: "error", role: "alert" }, message(e, symbol)));
  }
  p.shown = -1;
  void refresh();
}

async function cancel(p: Page, symbol: string, side: "deposit" | "redeem"): Promise<void> {
  try {
    await cancelRequest(p.ctx, signerOrSentence(p), symbol, side);
    fill(
      "trade-status",
      h(
        "p",
        {},
        `The ${side === "deposit" ? "mint" : "redeem"} request is cancelled and its funds returned.`,
      ),
    );
    p.placed.delete(symbol);
  } catch (e) {
    fill("trade-status", h("p", { class: "error", role: "alert" }, message(e, symbol)));
  }
  p.shown = -1;
  void refresh();
}

function historyTable(entries: HistoryEntry[]): Child {
  const rebalances = entries.filter((e) => e.kind === "rebalance");
  if (rebalances.length === 0) return h("p", { id: "no-rebalances" }, "No rebalance yet.");
  return h(
    "table",
    { id: "rebalances" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...["Time (UTC)", "Block", "Reason", "Leverage", "Price", "Trading cost (USDT)"].map((t) =>
          h("th", { scope: "col" }, t),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      ...rebalances
        .slice()
        .reverse()
        .map((e) =>
          h(
            "tr",
            { class: "rebalance", "data-block": e.block },
            h("td", {}, formatTime(e.time).replace(" UTC", "")),
            h("td", { class: "num" }, String(e.block)),
            h("td", {}, String(e.data.reason)),
            h(
              "td",
              { class: "num" },
              `${formatLeverage(parseUnits(String(e.data.leverageBefore), 18))} → ${formatLeverage(parseUnits(String(e.data.leverageAfter), 18))}`,
            ),
            h("td", { class: "num" }, formatPrice(parseUnits(String(e.data.price), 8))),
            h("td", { class: "num" }, formatUsdt(parseUnits(String(e.data.cost), 6))),
          ),
        ),
    ),
  );
}

async function showToken(p: Page, symbol: string, latest: number): Promise<void> {
  if (p.ctx.book.tokens[symbol] === undefined) {
    fill(
      "view",
      h(
        "p",
        { role: "alert" },
        `There is no token ${symbol} on ${p.config.network}: known tokens are ${Object.keys(p.ctx.book.tokens).join(", ")}.`,
      ),
    );
    return;
  }
  if (document.getElementById("token-title")?.textContent !== symbol) tokenSkeleton(p, symbol);
  const row = await readTokenRow(p.ctx, symbol, null);
  const i = row.info;
  fill(
    "token-summary",
    h(
      "dl",
      { class: "summary", "data-block": latest },
      h("dt", {}, "NAV"),
      h(
        "dd",
        { id: "token-nav", class: "num", "data-value": i.nav === null ? "" : perTokenJson(i.nav) },
        i.nav === null ? `n/a: ${i.navError ?? ""}` : `${formatPerToken(i.nav)} USDT`,
      ),
      h("dt", {}, "Pool price"),
      h(
        "dd",
        { class: "num" },
        row.pool === null
          ? (row.poolError ?? "no pool")
          : `${formatPerToken(row.pool.spot)} USDT${row.pool.premium === null ? "" : ` (${premiumText(row.pool.premium)})`}`,
      ),
      h("dt", {}, "Leverage"),
      h(
        "dd",
        {},
        gauge({
          leverage: i.live?.leverage ?? null,
          min: i.minLeverage,
          max: i.maxLeverage,
          target: i.targetLeverage,
          ripcord: i.ripcordLeverage,
        }),
        " ",
        i.live === null
          ? `n/a: ${i.liveError ?? ""}`
          : `${formatLeverage(i.live.leverage)} (target ${formatLeverage(i.targetLeverage)}, band ${formatLeverage(i.minLeverage)} to ${formatLeverage(i.maxLeverage)}, ripcord ${formatLeverage(i.ripcordLeverage)})`,
      ),
      h("dt", {}, `${i.market} price`),
      h("dd", { class: "num" }, i.live === null ? "n/a" : formatPrice(i.live.price)),
      h("dt", {}, "State"),
      h("dd", {}, stateCell(i)),
      h("dt", {}, "Fees"),
      h(
        "dd",
        {},
        `mint ${formatPercent(i.mintFee)}, redeem ${formatPercent(i.redeemFee)} (in ${symbol}), management ${formatPercent(i.managementFee)}/year`,
      ),
    ),
  );
  const submit = document.querySelector<HTMLButtonElement>("#trade-submit");
  if (submit) submit.disabled = p.wallet.kind !== "ready" || (!canMint(i) && !canRedeem(i));
  // a quote on the page is for the block shown: read it again with the rest
  const typed = document.querySelector<HTMLInputElement>("#amount")?.value ?? "";
  const side = document.querySelector<HTMLInputElement>('input[name="side"]:checked')?.value;
  if (typed.trim() !== "") void showQuote(p, symbol, side === "redeem" ? "redeem" : "deposit", typed);
  // the trade panel first, and each section on its own: one that cannot be read says so in its place
  await showRequests(p, symbol).catch((e: unknown) =>
    fill("requests", h("p", { class: "error" }, message(e, symbol))),
  );
  const [history, series] = await Promise.all([
    readTokenHistory(p.ctx, symbol, p.startBlock).catch((e: unknown) => message(e, symbol)),
    readSeries(p.ctx, i, p.startBlock).catch((e: unknown) => message(e, symbol)),
  ]);
  if (typeof history === "string" || typeof series === "string") {
    const why = typeof history === "string" ? history : (series as string);
    for (const id of ["chart", "explain", "history", "costs"]) fill(id, h("p", { class: "error" }, why));
    return;
  }
  const marks = history
    .filter((e) => e.kind === "rebalance")
    .map((e) => ({ block: e.block, label: `${formatTime(e.time)}: ${String(e.data.reason)}` }));
  fill(
    "chart",
    series.length < 2
      ? h("p", {}, "Not enough price updates with holders yet to draw.")
      : navChart(series, marks, symbol, i.market),
  );
  const ideal = idealComparison(i, series);
  fill(
    "explain",
    ideal === null
      ? h("p", {}, "The explanation needs two price updates some time apart.")
      : h(
          "div",
          {},
          h(
            "p",
            { id: "realised" },
            `Realised: ${symbol}'s NAV went ${ideal.realised.toFixed(4)}x over these ${series.length} price updates; the ideal closed form (continuous rebalancing at the path's realised volatility, management fee included) says ${ideal.explanation.tokenMultiple.toFixed(4)}x.`,
          ),
          h("p", { id: "explanation" }, ideal.explanation.text),
        ),
  );
  fill("history", historyTable(history));
  const costs = await readCostsPaid(p.ctx, i, p.startBlock, latest).catch((e: unknown) => message(e, symbol));
  if (typeof costs === "string") {
    fill("costs", h("p", { class: "error" }, costs));
    return;
  }
  fill("costs", costsList(costs, symbol));
}

/** The funding (+ paid, - received, as the exchange reports it), trading costs and fees a token paid. */
function costsList(c: CostsPaid, symbol: string): Child {
  const funding = (v: bigint, paid: string, received: string) =>
    `${signed(v)} USDT${v > 0n ? ` (${paid})` : v < 0n ? ` (${received})` : ""}`;
  const rows: [key: string, label: string, value: bigint, text: string][] = [
    [
      "rebalance-trading",
      "Rebalances' trading cost",
      c.rebalanceTrading,
      `${formatUsdt(c.rebalanceTrading)} USDT (shared by the holders)`,
    ],
    [
      "mint-redeem-trading",
      "Mints' and redeems' trading cost",
      c.mintRedeemTrading,
      `${formatUsdt(c.mintRedeemTrading)} USDT (each paid by its minter or redeemer)`,
    ],
    ["funding", "Funding settled", c.funding, funding(c.funding, "paid", "received")],
    [
      "funding-owed",
      "Funding accrued since, not yet settled",
      c.fundingOwed,
      funding(c.fundingOwed, "owed", "due to the token"),
    ],
    [
      "management-fee",
      "Management fee",
      c.managementFeeShares,
      `${formatShares(c.managementFeeShares)} ${symbol} to the treasury`,
    ],
    [
      "trade-fees",
      "Mint and redeem fees",
      c.tradeFeeShares,
      `${formatShares(c.tradeFeeShares)} ${symbol} to the treasury`,
    ],
  ];
  if (c.otherTrading !== 0n)
    rows.splice(2, 0, [
      "other-trading",
      "Other trades' cost (liquidation, the close at settlement)",
      c.otherTrading,
      `${formatUsdt(c.otherTrading)} USDT`,
    ]);
  return h(
    "dl",
    { class: "summary", id: "costs-list", "data-symbol": symbol, "data-block": c.block },
    ...rows.flatMap(([key, label, value, text]) => [
      h("dt", {}, label),
      h("dd", { class: "num", "data-cost": key, "data-value": value.toString() }, text),
    ]),
  );
}

// ---------------------------------------------------------------- my position

interface PositionJson {
  symbol: string;
  shares: string;
  nav: string | null;
  valueUsdt?: string;
  costBasisUsdt?: string;
  unrealisedUsdt?: string;
  realisedUsdt?: string;
  feesPaidUsdt?: string;
  note?: string;
}

async function showPosition(p: Page, latest: number): Promise<void> {
  const w = p.wallet;
  if (w.kind !== "ready") {
    fill("view", h("h2", {}, "My position"), h("p", { role: "alert" }, w.sentence));
    return;
  }
  const [report, usdtBalance] = await Promise.all([
    positionCommand(p.ctx, w.account, {}),
    usdtOf(p.ctx).balanceOf(w.account),
  ]);
  const rows = report.data.positions as unknown as PositionJson[];
  const usdt = (v: string | undefined) => (v === undefined ? "n/a" : formatUsdt(parseUnits(v, 6)));
  const pnl = (v: string | undefined) => (v === undefined ? "n/a" : signed(parseUnits(v, 6)));
  fill(
    "view",
    h("h2", {}, "My position"),
    h(
      "p",
      {},
      `Account ${w.account}: ${formatUsdt(usdtBalance)} USDT in the wallet. Cost basis at average cost; tokens received by transfer or swap count at NAV when they arrived (as lt position).`,
    ),
    rows.length === 0
      ? h("p", { id: "no-position" }, "No positions yet.")
      : h(
          "table",
          { id: "position", "data-block": latest },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ...[
                "Token",
                "Balance",
                "NAV (USDT)",
                "Value (USDT)",
                "Cost basis",
                "Unrealised",
                "Realised",
                "Fees paid",
              ].map((t) => h("th", { scope: "col" }, t)),
            ),
          ),
          h(
            "tbody",
            {},
            ...rows.map((r) =>
              h(
                "tr",
                { "data-symbol": r.symbol, "data-json": JSON.stringify(r) },
                h("th", { scope: "row" }, h("a", { href: `#/token/${r.symbol}` }, r.symbol)),
                h("td", { class: "num" }, formatShares(parseUnits(r.shares, 18))),
                h("td", { class: "num" }, r.nav === null ? "n/a" : formatPerToken(parseUnits(r.nav, 18))),
                h("td", { class: "num" }, usdt(r.valueUsdt)),
                h("td", { class: "num" }, usdt(r.costBasisUsdt)),
                h("td", { class: "num" }, pnl(r.unrealisedUsdt)),
                h("td", { class: "num" }, pnl(r.realisedUsdt)),
                h("td", { class: "num" }, usdt(r.feesPaidUsdt)),
              ),
            ),
          ),
        ),
  );
}

// ---------------------------------------------------------------- the loop

async function refresh(): Promise<void> {
  const p = page;
  if (p === undefined || p.busy) return;
  p.busy = true;
  try {
    const r = route();
    const hash = location.hash;
    // a view is read again until the chain stood still while it was read: every number of one view is of one block
    for (let tries = 0; tries < 3; tries++) {
      const latest = await p.ctx.provider.getBlockNumber();
      if (latest === p.shown && hash === p.shownRoute) break;
      if (r.view === "tokens") await showTokens(p, latest);
      else if (r.view === "token") await showToken(p, r.symbol, latest);
      else await showPosition(p, latest);
      const block = await p.ctx.provider.getBlock(latest);
      fill(
        "status",
        `Block ${latest}${block === null ? "" : `, ${formatTime(block.timestamp)}`} on ${p.config.network}.`,
      );
      if ((await p.ctx.provider.getBlockNumber()) === latest) {
        p.shown = latest;
        p.shownRoute = hash;
        document.body.dataset.block = String(latest);
        break;
      }
    }
    clearProblem();
  } catch (e) {
    problem(message(e));
  } finally {
    p.busy = false;
  }
}

async function start(): Promise<void> {
  let config: AppConfig;
  try {
    const res = await fetch(CONFIG_PATH, { cache: "no-store" });
    config = (await res.json()) as AppConfig;
  } catch {
    problem("The page's server does not answer: is npm run app still running?");
    return;
  }
  fill("network", `${config.network} (${config.rpcUrl})`);
  if (config.problem !== undefined || config.book === undefined) {
    problem(config.problem ?? "The server sent no address book.");
    fill("view");
    return;
  }
  const ctx = pageContext(
    config.book,
    new URL(config.rpcPath, location.href).href,
    config.network,
    config.rpcUrl,
  );
  try {
    ctx.book = await withChainTokens(config.book, ctx.provider);
  } catch (e) {
    problem(message(e));
    fill("view");
    return;
  }
  const startBlock = typeof config.book.startBlock === "number" ? config.book.startBlock : 0;
  page = {
    config,
    ctx,
    startBlock,
    wallet: { kind: "none", sentence: "" },
    shown: -1,
    shownRoute: "",
    busy: false,
    placed: new Map(),
  };
  page.wallet = await walletState(config.book.chainId, config.network, false);
  renderWallet(page);
  onWalletChange(() => void refreshWallet(false));
  window.addEventListener("hashchange", () => {
    if (page) page.shown = -1;
    void refresh();
  });
  await refresh();
  window.setInterval(() => void refresh(), POLL_MS);
}

void start();
