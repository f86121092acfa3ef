password = getpass.getpass('Password: ')
if not check_password(user, password):
    raise AuthError
