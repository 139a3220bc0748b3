// `lt admin ...`: the operator's commands on the command line (help text, arguments, options); the
// work is in admin.ts, adminCreate.ts and automation.ts.
import { Command } from "commander";
import {
  capCommand,
  delistCommand,
  type DelistOptions,
  feesCommand,
  keeperRoleCommand,
  pauseCommand,
  settleCommand,
  treasuryCommand,
} from "./admin.ts";
import type { FeeArgs } from "./adminRules.ts";
import {
  createCommand,
  type CreateOptions,
  marketCommand,
  type MarketOptions,
  poolCommand,
  type PoolOptions,
} from "./adminCreate.ts";
import { automationCommand, type AutomationOptions } from "./automation.ts";
import type { Context } from "./context.ts";
import type { Report } from "./format.ts";

export type Execute = (command: Command, body: (ctx: Context) => Promise<Report>) => Promise<void>;

export function addAdminCommands(program: Command, execute: Execute): void {
  const admin = program
    .command("admin")
    .description("operator commands: create tokens, markets and pools; delist, pause, fees, roles, settle")
    .addHelpText(
      "after",
      "\nEach command checks the signer's role and the contract's rule before sending, and says why it would fail.",
    );

  admin
    .command("create")
    .description(
      "create a token from the factory: band and ripcord as for 3x (x2/3, x4/3, x1.5) unless given",
    )
    .argument("<market>", "a market the exchange lists, e.g. ETH")
    .argument("<leverage>", "whole target leverage, 2 to 5 (e.g. 5 or 5x)")
    .argument("<side>", "long or short")
    .option("--min <leverage>", "the band's lower edge (default 2/3 of target)")
    .option("--max <leverage>", "the band's upper edge (default 4/3 of target)")
    .option("--ripcord <leverage>", "the ripcord (default 1.5 x target)")
    .option("--keeper <address>", "KEEPER_ROLE holder (default: the signer)")
    .option("--treasury <address>", "fee treasury (default: the first token's)")
    .option(
      "--artifact <file>",
      "the deployed LeveragedToken artifact (JSON with bytecode), if not this checkout's",
    )
    .option(
      "--desk-artifact <file>",
      "the deployed ForwardDesk artifact (JSON with bytecode), if not this checkout's",
    )
    .addHelpText(
      "after",
      "\nThe token is made with its ForwardDesk (forward pricing): mints and redeems are requests filled at the\n" +
        "next price round (lt mint, lt requests, lt claim), with the deploy's fill rules (1 h delay, 5 USDT bounty).",
    )
    .action(async (market: string, leverage: string, side: string, opts: CreateOptions, cmd: Command) =>
      execute(cmd, (ctx) => createCommand(ctx, market, leverage, side, opts)),
    );

  admin
    .command("market")
    .description("list a market: deploy a price feed that pushes to the exchange, and add it")
    .argument("<name>", "market name, e.g. SOL")
    .argument("<price>", "first price in USD, e.g. 150")
    .option("--heartbeat <seconds>", "longest a price stays valid", "3600")
    .option("--funding <percent>", "funding rate per 8 hours (longs pay shorts)", "0.01%")
    .action(async (name: string, price: string, opts: MarketOptions, cmd: Command) =>
      execute(cmd, (ctx) => marketCommand(ctx, name, price, opts)),
    );

  admin
    .command("pool")
    .description(
      "create the token's Uniswap V2 pool, seeded at NAV from your own tokens (lt mint them first) and as much test USDT",
    )
    .argument("<symbol>", "token symbol")
    .option("--tokens <amount>", "tokens to seed it with (default 100,000)")
    .action(async (symbol: string, opts: PoolOptions, cmd: Command) =>
      execute(cmd, (ctx) => poolCommand(ctx, symbol, opts)),
    );

  admin
    .command("delist")
    .description("schedule a delisting (at least 3 days ahead): minting stops now, settlement from then")
    .argument("<symbol>", "token symbol")
    .option("--at <time>", "settlement time: unix seconds or an ISO date")
    .option("--in <duration>", "settlement after this long, e.g. 3d or 80h (default: 3 days and an hour)")
    .action(async (symbol: string, opts: DelistOptions, cmd: Command) =>
      execute(cmd, (ctx) => delistCommand(ctx, symbol, opts)),
    );

  admin
    .command("pause")
    .description("pause minting (redeeming stays open)")
    .argument("<symbol>", "token symbol")
    .action(async (symbol: string, _opts: object, cmd: Command) =>
      execute(cmd, (ctx) => pauseCommand(ctx, symbol, true)),
    );

  admin
    .command("resume")
    .description("resume minting")
    .argument("<symbol>", "token symbol")
    .action(async (symbol: string, _opts: object, cmd: Command) =>
      execute(cmd, (ctx) => pauseCommand(ctx, symbol, false)),
    );

  admin
    .command("fees")
    .description(
      "set fees (the ones not given stay): caps mint and redeem 1%, management 5%/year, bounty 100 USDT",
    )
    .argument("<symbol>", "token symbol")
    .option("--mint <percent>", "mint fee, e.g. 0.05%")
    .option("--redeem <percent>", "redeem fee")
    .option("--management <percent>", "management fee per year")
    .option("--bounty <usdt>", "ripcord bounty in USDT")
    .action(async (symbol: string, opts: FeeArgs, cmd: Command) =>
      execute(cmd, (ctx) => feesCommand(ctx, symbol, opts)),
    );

  admin
    .command("treasury")
    .description("set where the token's fees go")
    .argument("<symbol>", "token symbol")
    .argument("<address>", "the new treasury")
    .action(async (symbol: string, address: string, _opts: object, cmd: Command) =>
      execute(cmd, (ctx) => treasuryCommand(ctx, symbol, address)),
    );

  admin
    .command("cap")
    .description("set the most tokens that may exist, or none")
    .argument("<symbol>", "token symbol")
    .argument("<tokens>", "the cap, or none")
    .action(async (symbol: string, amount: string, _opts: object, cmd: Command) =>
      execute(cmd, (ctx) => capCommand(ctx, symbol, amount)),
    );

  admin
    .command("keeper")
    .description("grant or revoke KEEPER_ROLE (a keeper, or an Automation forwarder)")
    .argument("<action>", "grant or revoke")
    .argument("<symbol>", "token symbol, or all")
    .argument("<address>", "the keeper's address")
    .action(async (action: string, symbol: string, address: string, _opts: object, cmd: Command) =>
      execute(cmd, (ctx) => keeperRoleCommand(ctx, action, symbol, address)),
    );

  admin
    .command("settle")
    .description("settle a token from its delisting time (or a depleted one): closes it and freezes NAV")
    .argument("<symbol>", "token symbol")
    .action(async (symbol: string, _opts: object, cmd: Command) =>
      execute(cmd, (ctx) => settleCommand(ctx, symbol)),
    );

  admin
    .command("automation")
    .description("what a Chainlink Automation upkeep needs: target, checkData, a measured gas limit")
    .argument("<symbol>", "token symbol")
    .option("--forwarder <address>", "the upkeep's forwarder: granted KEEPER_ROLE")
    .action(async (symbol: string, opts: AutomationOptions, cmd: Command) =>
      execute(cmd, (ctx) => automationCommand(ctx, symbol, opts)),
    );
}
