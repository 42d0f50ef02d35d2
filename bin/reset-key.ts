import { parseArgs } from "node:util";
import { cli } from "./cli-kit.ts";
import { loadConfigOrSayWhy } from "./configuration.ts";

const usage = `usage: ${cli} reset-key

With no gateway key and no master key configured, the gateway makes a key at its first start and
keeps only its hash (auth.generatedKeyFile, under GATEWAY_DATA_DIR). When that key is lost, this
makes a new one in its place and prints it, once, on stdout. The old key stops working, and the new
one starts, when the gateway next starts.
`;

/**
 * `ai-gateway reset-key`: the way back in when the generated key (also the admin API's key) is
 * lost. Like `config`, it imports the configuration's modules only, when it runs.
 */
export async function resetKeyCommand(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({ args: argv, options: { help: { type: "boolean" } } });
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\nsee: ${cli} reset-key --help\n`);
    return 2;
  }
  const [loaded, { keepGeneratedKey, makesItsOwnKey, newGatewayKey }] = await Promise.all([
    loadConfigOrSayWhy(),
    import("../governance/keys/generated-key.ts"),
  ]);
  if (!loaded) return 2;
  const { auth } = loaded.config;
  if (!makesItsOwnKey(auth)) {
    process.stderr.write(
      "error: keys are configured (auth.keys or GATEWAY_KEYS, auth.masterKey or GATEWAY_MASTER_KEY), so the gateway makes and accepts no generated key; change those instead\n",
    );
    return 1;
  }
  const key = newGatewayKey();
  keepGeneratedKey(auth.generatedKeyFile, key);
  process.stdout.write(`${key}\n`);
  process.stderr.write(
    `A new gateway key, shown only now; its hash replaced the old one in ${auth.generatedKeyFile}. Restart the gateway to use it.\n`,
  );
  return 0;
}
