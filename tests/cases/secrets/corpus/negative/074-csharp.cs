var apiKey = Configuration["ApiKey"];
var password = Environment.GetEnvironmentVariable("DB_PASSWORD");
