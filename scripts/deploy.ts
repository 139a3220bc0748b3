// npm run deploy -- --network <name>: deploys the system with Ignition and writes
// deployments/<network>.json (DEPLOYMENTS_DIR and IGNITION_JOURNAL_DIR override the folders; KEEPER_ADDRESS and
// TREASURY_ADDRESS override the deployer as keeper and treasury; INSTANT_TOKENS=1 gives the tokens
// the test-only InstantDesk, the primary market before forward pricing (the attack test compares it); DEPLOY_TOKENS=BTC3L,ETH5S and DEPLOY_PARAMETERS=file.json
// pick the tokens and markets, see src/chain/deploySpec.ts; `hardhat run` takes no options of a script's own).
import { artifacts, network } from "hardhat";
import { deployToNetwork } from "../src/chain/deployNetwork.ts";
import { specFromEnvironment } from "../src/chain/deploySpec.ts";

try {
  const spec = specFromEnvironment();
  const connection = await network.create();
  const result = await deployToNetwork(connection, artifacts, {
    deploymentsDir: process.env.DEPLOYMENTS_DIR,
    journalRoot: process.env.IGNITION_JOURNAL_DIR,
    keeper: process.env.KEEPER_ADDRESS,
    treasury: process.env.TREASURY_ADDRESS,
    instantTokens: process.env.INSTANT_TOKENS === "1",
    spec,
    log: (line) => console.log(line),
  });
  console.log(JSON.stringify(result.book, null, 2));
  await connection.close();
} catch (e) {
  console.error(`deploy failed: ${(e as Error).message}`);
  process.exitCode = 1;
}
