import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { GatewayError } from "../../../schemas/errors.ts";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working; absent for long-term keys. */
  expiration?: Date;
}

/** What the provider entry's options say about credentials; each may instead come from the environment. */
export interface CredentialSettings {
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  profile?: string;
  roleArn?: string;
  webIdentityTokenFile?: string;
  roleSessionName: string;
  stsEndpoint?: string;
}

/** Temporary credentials are renewed this long before they expire, so no request is signed with a dying key. */
const refreshMarginMs = 5 * 60_000;

/**
 * The credentials to sign with, found in the order the AWS SDKs look: the provider's options (keys,
 * or a role to assume with a web identity token), the environment's keys, the shared credentials
 * file's profile, then the environment's web identity (EKS and GitHub Actions set it). Where they
 * come from is decided once; temporary credentials are cached and renewed before they expire, one
 * renewal at a time however many calls wait for it.
 */
export function credentialChain(
  settings: CredentialSettings,
  env: NodeJS.ProcessEnv = process.env,
): () => Promise<AwsCredentials> {
  let source: (() => Promise<AwsCredentials>) | undefined;
  let cached: AwsCredentials | undefined;
  let pending: Promise<AwsCredentials> | undefined;
  const fresh = (credentials: AwsCredentials) =>
    !credentials.expiration || credentials.expiration.getTime() - Date.now() > refreshMarginMs;
  return async () => {
    if (cached && fresh(cached)) return cached;
    source ??= findSource(settings, env);
    pending ??= source().finally(() => {
      pending = undefined;
    });
    cached = await pending;
    return cached;
  };
}

function findSource(settings: CredentialSettings, env: NodeJS.ProcessEnv): () => Promise<AwsCredentials> {
  const keys = (accessKeyId?: string, secretAccessKey?: string, sessionToken?: string) =>
    accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined;
  const fixed = (credentials: AwsCredentials) => () => Promise.resolve(credentials);

  const configured = keys(settings.accessKeyId, settings.secretAccessKey, settings.sessionToken);
  if (configured) return fixed(configured);
  if (settings.roleArn && settings.webIdentityTokenFile)
    return () =>
      assumeRoleWithWebIdentity(
        settings,
        settings.roleArn as string,
        settings.webIdentityTokenFile as string,
        env,
      );
  const fromEnv = keys(env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN);
  if (fromEnv) return fixed(fromEnv);
  const profile = settings.profile ?? env.AWS_PROFILE ?? "default";
  const file = env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), ".aws", "credentials");
  const section = readProfile(file, profile);
  const fromFile = keys(
    section?.aws_access_key_id,
    section?.aws_secret_access_key,
    section?.aws_session_token,
  );
  if (fromFile) return fixed(fromFile);
  if (env.AWS_ROLE_ARN && env.AWS_WEB_IDENTITY_TOKEN_FILE)
    return () =>
      assumeRoleWithWebIdentity(
        settings,
        env.AWS_ROLE_ARN as string,
        env.AWS_WEB_IDENTITY_TOKEN_FILE as string,
        env,
      );
  throw new GatewayError(
    "provider_error",
    `bedrock has no AWS credentials: none in its options, in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, in profile "${profile}" of ${file}, nor a web identity (AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE)`,
  );
}

/** One profile of an INI credentials file (`[name]` sections of `key = value` lines); undefined when absent. */
function readProfile(file: string, profile: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  let current: Record<string, string> | undefined;
  const profiles = new Map<string, Record<string, string>>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s*[#;].*$/, "").trim();
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      current = {};
      profiles.set(header[1] as string, current);
    } else if (current && line.includes("=")) {
      const at = line.indexOf("=");
      current[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
    }
  }
  return profiles.get(profile);
}

/**
 * STS AssumeRoleWithWebIdentity: the token file (read anew each time, as its issuer rotates it)
 * exchanged for temporary credentials. The call needs no signature. Its endpoint is the region's
 * STS unless the options or AWS_ENDPOINT_URL_STS name another (a VPC endpoint, the emulator).
 */
async function assumeRoleWithWebIdentity(
  settings: CredentialSettings,
  roleArn: string,
  tokenFile: string,
  env: NodeJS.ProcessEnv,
): Promise<AwsCredentials> {
  const endpoint =
    settings.stsEndpoint ?? env.AWS_ENDPOINT_URL_STS ?? `https://sts.${settings.region}.amazonaws.com`;
  let token: string;
  try {
    token = readFileSync(tokenFile, "utf8").trim();
  } catch (error) {
    throw new GatewayError(
      "provider_error",
      `bedrock cannot read its web identity token file ${tokenFile} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  const form = new URLSearchParams({
    Action: "AssumeRoleWithWebIdentity",
    Version: "2011-06-15",
    RoleArn: roleArn,
    RoleSessionName: env.AWS_ROLE_SESSION_NAME ?? settings.roleSessionName,
    WebIdentityToken: token,
  });
  let text: string;
  let status: number;
  try {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new GatewayError(
      "provider_error",
      `bedrock could not reach STS at ${endpoint} (${(error as Error).message})`,
    );
  }
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
  const accessKeyId = field("AccessKeyId");
  const secretAccessKey = field("SecretAccessKey");
  const expiration = new Date(field("Expiration") ?? "");
  if (status !== 200 || !accessKeyId || !secretAccessKey || Number.isNaN(expiration.getTime()))
    throw new GatewayError(
      "provider_error",
      `bedrock could not assume role ${roleArn} with its web identity: STS answered HTTP ${status}${field("Code") ? ` ${field("Code")}` : ""}`,
    );
  return { accessKeyId, secretAccessKey, sessionToken: field("SessionToken"), expiration };
}
