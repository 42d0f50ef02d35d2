import type { ConnectionOptions } from "../http/connection-options.ts";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working; absent for long-term keys. */
  expiration?: Date;
}

/**
 * What the provider entry's options say about credentials (each may instead come from the
 * environment), and its connection settings, which the calls to STS take too.
 */
export interface CredentialSettings extends ConnectionOptions {
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  profile?: string;
  roleArn?: string;
  externalId?: string;
  durationSeconds: number;
  webIdentityTokenFile?: string;
  roleSessionName: string;
  stsEndpoint?: string;
}

export type CredentialSource = () => Promise<AwsCredentials>;
