String password = credentials.getPassword();
char[] secret = System.console().readPassword();
