TOKEN_URL = 'https://oauth2.googleapis.com/token'
SECRET_NAME = 'projects/p/secrets/db-password/versions/latest'
