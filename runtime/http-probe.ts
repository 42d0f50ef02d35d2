import { request } from "node:http";

/**
 * True when `url` answers 2xx. Uses a fresh connection that is closed afterwards: a kept-alive
 * probe socket would make the probed server wait for it when it shuts down.
 */
export function answersOk(url: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = request(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      resolve((response.statusCode ?? 500) < 300);
    });
    probe.on("timeout", () => probe.destroy());
    probe.on("error", () => resolve(false));
    probe.end();
  });
}
