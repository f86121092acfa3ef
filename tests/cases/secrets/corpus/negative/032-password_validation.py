MIN_PASSWORD_LENGTH = 12
password_reset_url = '/accounts/reset/'
PASSWORD_HASHERS = ['argon2']
