# DSNs are public client keys
sentry_sdk.init(dsn='https://cc4f8de8f6d12c3db87f6890ec34d7a6@o015275.ingest.sentry.io/0907394')
