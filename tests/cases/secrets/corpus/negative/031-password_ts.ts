interface Login { username: string; password: string; }
const passwordField = form.password;
