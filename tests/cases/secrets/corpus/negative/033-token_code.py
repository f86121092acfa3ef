token = tokenizer.next_token()
secret = self._load_secret(name)
api_key = settings.API_KEY
