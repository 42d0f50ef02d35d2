import { GatewayError } from "../../../schemas/errors.ts";
import { renewing } from "../renewing.ts";
import type { AwsCredentials, CredentialSettings, CredentialSource } from "./credential-settings.ts";
import { readSharedFiles, type SharedFiles } from "./shared-files.ts";
import { roleCredentials } from "./sts.ts";

/** Temporary credentials are renewed this long before they expire, so no request is signed with a dying key. */
const refreshMarginMs = 5 * 60_000;

/**
 * The credentials to sign with, found in the order the AWS SDKs look: a role the options name
 * without a web identity token, assumed with the credentials the rest of this order finds; the
 * options' keys, or their role with a web identity token; the environment's keys; the shared
 * files' profile (its keys, or its role assumed with its source profile's); then the
 * environment's web identity (EKS and GitHub Actions set it).
 */
export function credentialChain(
  settings: CredentialSettings,
  env: NodeJS.ProcessEnv = process.env,
): CredentialSource {
  return cachedCredentials(() => findSource(settings, env));
}

/**
 * Where credentials come from is decided once, on first use; temporary ones are cached and
 * renewed before they expire, one renewal at a time however many calls wait for it.
 */
function cachedCredentials(find: () => CredentialSource): CredentialSource {
  let source: CredentialSource | undefined;
  const credentials = renewing(
    () => {
      source ??= find();
      return source();
    },
    (kept) => (kept.expiration ? kept.expiration.getTime() - refreshMarginMs : Number.POSITIVE_INFINITY),
  );
  return () => credentials.get();
}

const keys = (accessKeyId?: string, secretAccessKey?: string, sessionToken?: string) =>
  accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined;
const fixed = (credentials: AwsCredentials) => () => Promise.resolve(credentials);

function findSource(settings: CredentialSettings, env: NodeJS.ProcessEnv): CredentialSource {
  const { roleArn, webIdentityTokenFile } = settings;
  if (roleArn && !webIdentityTokenFile)
    return roleCredentials(settings, env, {
      roleArn,
      roleSessionName: settings.roleSessionName,
      externalId: settings.externalId,
      durationSeconds: settings.durationSeconds,
      base: credentialChain({ ...settings, roleArn: undefined }, env),
    });
  const configured = keys(settings.accessKeyId, settings.secretAccessKey, settings.sessionToken);
  if (configured) return fixed(configured);
  const webIdentity = (roleArn: string, webIdentityTokenFile: string) =>
    roleCredentials(settings, env, {
      roleArn,
      webIdentityTokenFile,
      roleSessionName: env.AWS_ROLE_SESSION_NAME ?? settings.roleSessionName,
      durationSeconds: settings.durationSeconds,
    });
  if (roleArn && webIdentityTokenFile) return webIdentity(roleArn, webIdentityTokenFile);
  const fromEnv = keys(env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN);
  if (fromEnv) return fixed(fromEnv);
  const profile = settings.profile ?? env.AWS_PROFILE ?? "default";
  const files = readSharedFiles(env);
  const fromProfile = profileSource(profile, files, settings, env);
  if (fromProfile) return fromProfile;
  if (env.AWS_ROLE_ARN && env.AWS_WEB_IDENTITY_TOKEN_FILE)
    return webIdentity(env.AWS_ROLE_ARN, env.AWS_WEB_IDENTITY_TOKEN_FILE);
  throw new GatewayError(
    "provider_error",
    `bedrock has no AWS credentials: none in its options, in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, in profile "${profile}" of ${files.credentialsFile} or ${files.configFile}, nor a web identity (AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE)`,
  );
}

/**
 * A profile's credentials: a role (`role_arn`) assumed with those of its `source_profile`, or its
 * keys. A profile met again while resolving its own role gives its keys, as in the AWS SDKs (a
 * role profile may name itself as its source), so a cycle ends.
 */
function profileSource(
  name: string,
  files: SharedFiles,
  settings: CredentialSettings,
  env: NodeJS.ProcessEnv,
  assuming: ReadonlySet<string> = new Set(),
): CredentialSource | undefined {
  const profile = files.profile(name);
  const sourceProfile = profile?.source_profile;
  if (profile?.role_arn && sourceProfile && !assuming.has(name)) {
    const base = profileSource(sourceProfile, files, settings, env, new Set(assuming).add(name));
    if (!base)
      throw new GatewayError(
        "provider_error",
        `bedrock's profile "${name}" assumes role ${profile.role_arn} with the credentials of profile "${sourceProfile}", which has none`,
      );
    return roleCredentials(settings, env, {
      roleArn: profile.role_arn,
      roleSessionName: profile.role_session_name ?? settings.roleSessionName,
      externalId: profile.external_id,
      durationSeconds: Number(profile.duration_seconds ?? settings.durationSeconds),
      base: cachedCredentials(() => base),
    });
  }
  const fromFile = keys(
    profile?.aws_access_key_id,
    profile?.aws_secret_access_key,
    profile?.aws_session_token,
  );
  return fromFile && fixed(fromFile);
}
