def authenticate(self, username, password):
    key = hashlib.sha256(password.encode()).hexdigest()
    return self.store.get(key)
