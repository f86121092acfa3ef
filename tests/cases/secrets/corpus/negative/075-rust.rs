let token = std::env::var("GITHUB_TOKEN")?;
let secret = read_secret(&path)?;
