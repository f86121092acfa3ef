client = OpenAI(api_key='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', base_url='https://api.perplexity.ai')
