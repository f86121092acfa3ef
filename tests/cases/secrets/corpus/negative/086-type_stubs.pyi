class Session:
    token: OAuth2Token
    private_key: PKCS7PrivateKeyTypes
