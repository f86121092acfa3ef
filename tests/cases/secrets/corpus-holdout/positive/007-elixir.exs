config :app, App.Mailer, api_key: "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"
