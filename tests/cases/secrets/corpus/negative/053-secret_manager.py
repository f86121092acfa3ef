secret = client.access_secret_version(name=secret_name)
password = secret.payload.data.decode()
