def connect(host, user, password=None, token=None):
    return Conn(host, user, password=password, token=token)
