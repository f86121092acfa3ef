client := sendgrid.NewSendClient("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")
