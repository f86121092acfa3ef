digest = hmac.new(secret_key, msg, hashlib.sha256).hexdigest()
expected = '3f800fab7887e6e0ad8c1110a2d3a1b4abd6a4e1b8ab6cc60de304cab1f5ac38'
