const token = process.env.GITHUB_TOKEN;
const password = config.get('db.password');
