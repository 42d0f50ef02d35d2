import { startOpenAIEmulator } from "../test/emulators/openai.ts";

/** The upstream of the benchmark, in a process of its own: an OpenAI emulator that answers at once. */
const emulator = await startOpenAIEmulator({ apiKey: process.argv[2] ?? "sk-bench", record: false });
process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
process.stdin.resume();
process.stdin.on("end", () => void emulator.close().then(() => process.exit(0)));
