login(token="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")
