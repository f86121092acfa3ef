apiKey := os.Getenv("API_KEY")
password := viper.GetString("db.password")
